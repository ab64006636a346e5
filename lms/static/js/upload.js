/* Learner files: a progress bar while a file uploads, and the size checked before it goes.

   Each prompt's file field (in a data-upload part of the lesson's one form) has its
   Upload button; pressed with files chosen, it sends just those files with
   XMLHttpRequest (fetch cannot report upload progress) to the part's data-upload-url,
   with the CSRF token in an X-CSRFToken header, instead of the whole form. The server
   answers with JSON: where to go next (the lesson, which lists the new files) and any
   problems. The answers' text is the autosave script's to save. Without this script
   the button sends the whole form, which attaches the files and keeps every box.
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

  function setup(part) {
    var input = part.querySelector('input[type="file"]');
    var bar = part.querySelector("[data-upload-progress]");
    var status = part.querySelector("[data-upload-status]");
    var button = part.querySelector("[data-upload-button]");
    var maxBytes = Number(part.getAttribute("data-max-bytes")) || 0;
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
      say(names.length ? names.join(", ") + ": " + part.getAttribute("data-msg-too-large") : "");
    });

    // The click, not the form's submit: cancelling it leaves the form alone.
    button.addEventListener("click", function (event) {
      if (!input.files || input.files.length === 0) {
        return; // the whole form goes, and the server says what is missing
      }
      event.preventDefault();
      if (busy) {
        return;
      }
      var names = tooLarge();
      if (names.length) {
        say(names.join(", ") + ": " + part.getAttribute("data-msg-too-large"));
        input.focus();
        return;
      }
      busy = true;
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      say(part.getAttribute("data-msg-uploading"));

      var request = new XMLHttpRequest();
      request.open("POST", part.getAttribute("data-upload-url"));
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
        finish(full || part.getAttribute("data-msg-failed"));
      });
      request.addEventListener("error", function () {
        finish(part.getAttribute("data-msg-failed"));
      });
      var files = new FormData();
      Array.prototype.forEach.call(input.files, function (file) {
        files.append(input.name, file);
      });
      request.send(files);
    });

    function finish(message) {
      busy = false;
      button.disabled = false;
      bar.hidden = true;
      say(message);
    }
  }

  document.querySelectorAll("[data-upload]").forEach(setup);
})();
