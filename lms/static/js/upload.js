/* Learner files: a progress bar while a file uploads, and the size checked before it goes.

   Each form with data-upload is sent with XMLHttpRequest (fetch cannot report upload
   progress), with the CSRF token in an X-CSRFToken header. The server answers with
   JSON: where to go next (the lesson, which lists the new files) and any problems.
   Without this script the same form uploads as an ordinary form.
*/
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function go(address) {
    var target = new URL(address, window.location.href);
    var here = window.location;
    if (target.pathname === here.pathname && target.search === here.search) {
      // Only the #fragment differs: assigning it would not load the page again.
      here.hash = target.hash;
      here.reload();
    } else {
      here.assign(target.href);
    }
  }

  function setup(form) {
    var input = form.querySelector('input[type="file"]');
    var bar = form.querySelector("[data-upload-progress]");
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector('button[type="submit"]');
    var maxBytes = Number(form.getAttribute("data-max-bytes")) || 0;
    var busy = false;

    function say(text) {
      status.textContent = text;
    }

    function tooLarge() {
      var names = [];
      Array.prototype.forEach.call(input.files || [], function (file) {
        if (maxBytes && file.size > maxBytes) {
          names.push("“" + file.name + "”");
        }
      });
      return names;
    }

    input.addEventListener("change", function () {
      var names = tooLarge();
      say(names.length ? names.join(", ") + ": " + form.getAttribute("data-msg-too-large") : "");
    });

    form.addEventListener("submit", function (event) {
      if (!input.files || input.files.length === 0) {
        return; // let the server say what is missing
      }
      event.preventDefault();
      if (busy) {
        return;
      }
      var names = tooLarge();
      if (names.length) {
        say(names.join(", ") + ": " + form.getAttribute("data-msg-too-large"));
        input.focus();
        return;
      }
      busy = true;
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      say(form.getAttribute("data-msg-uploading"));

      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.upload.addEventListener("progress", function (progress) {
        if (progress.lengthComputable) {
          bar.value = Math.round((100 * progress.loaded) / progress.total);
        }
      });
      request.addEventListener("load", function () {
        var data = null;
        try {
          data = JSON.parse(request.responseText);
        } catch (error) {
          data = null;
        }
        if (data && data.redirect && request.status < 500) {
          // The lesson lists the new files and says what was refused, and why.
          go(data.redirect);
          return;
        }
        // A full disk (507) is not the learner's connection: say what the server said.
        var full = request.status === 507 && data && data.error;
        finish(full || form.getAttribute("data-msg-failed"));
      });
      request.addEventListener("error", function () {
        finish(form.getAttribute("data-msg-failed"));
      });
      request.send(new FormData(form));
    });

    function finish(message) {
      busy = false;
      button.disabled = false;
      bar.hidden = true;
      say(message);
    }
  }

  document.querySelectorAll("form[data-upload]").forEach(setup);
})();
