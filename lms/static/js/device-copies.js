/* Copies of unsaved answers kept on this device, and a sign-out that does not lose them.

   The autosave script keeps each answer not saved yet in localStorage under
   "lms-answer:<account's public id>:<prompt id>": the public id is random and never
   reused, so a copy can only ever be restored into the account that typed it. Each copy
   says where to send it (url) and which revision it is based on (base).
   Signing out clears this account's copies (and the server's answer clears the rest of
   what the site stored), so before the sign-out form goes, the copies are saved: those
   of this page by the autosave script, any others left from earlier pages here. When
   some cannot be saved, the learner is asked before they are deleted.
   Loaded on every page of a signed-in person, before the page's own scripts.
*/
(function () {
  "use strict";

  var PREFIX = "lms-answer:";
  var SAVE_TIMEOUT_MS = 8000; // a sign-out waits this long at most for the saves
  var beforeSignOut = []; // functions returning a promise: a page's own saves

  function load(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function store(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
      return true;
    } catch (error) {
      return false; // private mode or a full disk: the server's copy is all there is
    }
  }

  function forget(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (error) {
      /* nothing to forget */
    }
  }

  // The keys of this account's copies.
  function own(account) {
    var keys = [];
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf(PREFIX + account + ":") === 0) {
          keys.push(key);
        }
      }
    } catch (error) {
      /* no storage: nothing kept */
    }
    return keys;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Send one copy as the autosave script would; resolves true once the server has it.
  function send(key, copy) {
    if (!copy || copy.conflict || !copy.url || typeof copy.body !== "string") {
      return Promise.resolve(false);
    }
    var field = "p" + key.split(":").pop();
    var fields = {};
    fields[field + "-body"] = copy.body;
    fields[field + "-revision"] = copy.base;
    return window
      .fetch(copy.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify(fields),
      })
      .then(
        function (response) {
          return response.ok;
        },
        function () {
          return false;
        }
      );
  }

  function within(promise, ms) {
    return Promise.race([
      promise,
      new Promise(function (resolve) {
        window.setTimeout(resolve, ms);
      }),
    ]);
  }

  // How many of the account's copies are still not on the server after trying once more.
  function saveLeftovers(account) {
    return Promise.all(
      own(account).map(function (key) {
        return send(key, load(key)).then(function (saved) {
          if (saved) {
            forget(key);
          }
          return saved ? 0 : 1;
        });
      })
    ).then(function (counts) {
      return counts.reduce(function (a, b) {
        return a + b;
      }, 0);
    });
  }

  function guardSignOut(form) {
    var account = form.getAttribute("data-account");
    form.addEventListener("submit", function (event) {
      if (form.hasAttribute("data-checked") || !account) {
        return;
      }
      if (beforeSignOut.length === 0 && own(account).length === 0) {
        return; // nothing kept here: sign out at once
      }
      event.preventDefault();
      var saves = Promise.all(
        beforeSignOut.map(function (save) {
          return save();
        })
      );
      within(saves, SAVE_TIMEOUT_MS)
        .then(function () {
          return within(saveLeftovers(account), SAVE_TIMEOUT_MS);
        })
        .then(function (left) {
          left = left === undefined ? own(account).length : left;
          if (left > 0 && !window.confirm(form.getAttribute("data-msg-unsaved"))) {
            return;
          }
          own(account).forEach(forget);
          form.setAttribute("data-checked", "");
          form.submit();
        });
    });
  }

  window.lmsCopies = {
    key: function (name) {
      return PREFIX + name;
    },
    load: load,
    store: store,
    forget: forget,
    // A page's own saves to finish before signing out: fn() returns a promise.
    beforeSignOut: function (save) {
      beforeSignOut.push(save);
    },
  };

  document.querySelectorAll("form[data-sign-out]").forEach(guardSignOut);
})();
