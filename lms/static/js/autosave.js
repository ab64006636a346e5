/* Answers that are never lost: autosave while typing, save on leaving, a copy on this device.

   The lesson page is one form (data-autosave-page); each answer in it (data-answer)
   holds a textarea, a hidden "...-revision" with the revision its text is based on, and
   the URL it saves to. While the learner types, the text is kept on this device
   (device-copies.js) and sent a few seconds after the last change, one request at a
   time, as JSON or multipart, whichever is smaller, with the CSRF token in a header.
   The server answers with the new revision, or:
   - 409 when another tab or device saved a newer text: the page's form is sent, and
     the server's conflict page shows both texts side by side;
   - 401 when the session has ended: the learner is told, with a sign-in link; the copy
     here is put back and saved after signing in as the same account;
   - another 4xx when it cannot take this text (said in its words): it is not sent again
     until the learner changes it, and later edits are saved as usual;
   - 5xx, or no answer at all: the text is kept here, and sent again after the server's
     Retry-After or after ten seconds.
   U+0000, which no database stores as text, is taken out of the box (said once).
   Unsaved text goes out with fetch keepalive when the page is hidden or left. Browsers
   take at most 64 KB of such bodies in flight, so the encoded size is measured; text
   that does not fit makes the browser ask before the page is left, stays on this
   device, and is put back and saved on the next visit. The copy here is dropped once
   the server has the text. Without this script any button of the form saves it all.
*/
(function () {
  "use strict";

  var copies = window.lmsCopies;
  var page = document.querySelector("form[data-autosave-page]");
  if (!copies || !page) {
    return;
  }

  var DELAY_MS = 3000; // after the last keystroke
  var MAX_WAIT_MS = 15000; // while typing on and on, save at least this often
  var RETRY_MS = 10000; // after a failure (sooner when the server says when, in Retry-After)
  var SLOW_MS = 1000; // say "Saving…" only when it takes this long
  var KEEPALIVE_BYTES = 65536; // what browsers let keepalive requests carry at once
  var KEEPALIVE = typeof window.Request === "function" && "keepalive" in window.Request.prototype;
  var NUL = /\u0000/g;
  var keepaliveInFlight = 0; // bytes of keepalive bodies not answered yet
  var signedOut = false; // the session ended: nothing is sent until the learner signs in
  var sending = false; // the page's form itself carries the texts now

  function message(name) {
    return page.getAttribute("data-msg-" + name) || "";
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function contains(haystack, needle) {
    var trimmed = needle.trim();
    return trimmed === "" || haystack.indexOf(trimmed) !== -1;
  }

  function fits(bytes) {
    return bytes <= KEEPALIVE_BYTES - keepaliveInFlight;
  }

  // The body of a save, as it goes over the wire, in the smaller encoding the endpoint
  // takes: JSON escapes line breaks and quotes, multipart adds a few lines per field;
  // both send other characters as UTF-8 (form-urlencoding takes 6 bytes for a Cyrillic
  // letter). A beacon cannot send JSON (a type browsers refuse for it): multipart only.
  function encode(fields, multipartOnly) {
    var json = JSON.stringify(fields);
    var jsonBytes = new Blob([json]).size;
    var boundary = "lms-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    var parts = [];
    var clash = false;
    Object.keys(fields).forEach(function (name) {
      var value = String(fields[name]);
      clash = clash || value.indexOf(boundary) !== -1;
      parts.push(
        "--" + boundary + '\r\nContent-Disposition: form-data; name="' + name + '"\r\n\r\n',
        value,
        "\r\n"
      );
    });
    parts.push("--" + boundary + "--\r\n");
    var multipart = new Blob(parts, { type: "multipart/form-data; boundary=" + boundary });
    if (!clash && (multipartOnly || multipart.size < jsonBytes)) {
      return { body: multipart, type: null, bytes: multipart.size };
    }
    return { body: json, type: "application/json", bytes: jsonBytes };
  }

  function Answer(box) {
    this.box = box;
    this.textarea = box.querySelector('textarea[name$="-body"]');
    this.revision = box.querySelector('input[name$="-revision"]');
    this.status = box.querySelector("[data-save-status]");
    this.url = box.getAttribute("data-save-url");
    this.key = copies.key(box.getAttribute("data-key"));
    this.saved = this.textarea.value; // the text the server has
    this.refused = null; // a text the server would not take: not sent again as it is
    this.unanswered = null; // a text sent whose answer never came (it may be stored)
    this.inflight = null; // the promise of the save in flight
    this.inflightBody = null;
    this.timer = null;
    this.since = 0; // when the oldest unsaved change was typed
    this.stopped = false; // a conflict, or the page's form is being sent
    this.again = null; // asked to save during a save: the mode to save with once it is done
    this.notice = null; // said once more with the next "Saved"
    this.toldNul = false;
  }

  Answer.prototype.say = function (text) {
    if (this.status.textContent !== text || this.status.children.length) {
      this.status.textContent = text;
    }
  };

  Answer.prototype.saySignedOut = function () {
    this.status.textContent = message("signed-out") + " ";
    var link = document.createElement("a");
    link.href = page.getAttribute("data-sign-in");
    link.textContent = message("sign-in");
    this.status.appendChild(link);
  };

  // Text typed that the server does not have, and that is worth sending.
  Answer.prototype.unsent = function () {
    var body = this.textarea.value;
    return body !== this.saved && body !== this.refused;
  };

  Answer.prototype.keep = function (extra) {
    var copy = {
      body: this.textarea.value,
      base: Number(this.revision.value),
      url: this.url,
      at: Date.now(),
    };
    for (var name in extra || {}) {
      copy[name] = extra[name];
    }
    copies.store(this.key, copy);
  };

  Answer.prototype.fields = function (body, base) {
    var fields = { csrf_token: csrfToken() };
    fields[this.textarea.name] = body;
    fields[this.revision.name] = base;
    return fields;
  };

  // U+0000 cannot be stored as text: take it out where the learner typed or pasted it.
  Answer.prototype.clean = function () {
    var value = this.textarea.value;
    if (value.indexOf("\u0000") === -1) {
      return;
    }
    var start = value.slice(0, this.textarea.selectionStart).replace(NUL, "").length;
    var end = value.slice(0, this.textarea.selectionEnd).replace(NUL, "").length;
    this.textarea.value = value.replace(NUL, "");
    this.textarea.setSelectionRange(start, end);
    if (!this.toldNul) {
      this.toldNul = true;
      this.notice = message("nul");
      this.say(this.notice);
    }
  };

  Answer.prototype.schedule = function (delay) {
    var self = this;
    if (this.stopped || signedOut) {
      return;
    }
    var wait = delay === undefined ? DELAY_MS : delay;
    if (this.since && delay === undefined) {
      wait = Math.max(0, Math.min(wait, this.since + MAX_WAIT_MS - Date.now()));
    }
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () {
      self.timer = null;
      self.save();
    }, wait);
  };

  Answer.prototype.send = function (encoded, keepalive) {
    var headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    if (encoded.type) {
      headers["Content-Type"] = encoded.type; // a multipart Blob carries its own
    }
    return window.fetch(this.url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: keepalive,
      headers: headers,
      body: encoded.body,
    });
  };

  // mode: undefined while typing, "hidden" when the page is hidden (it may come back),
  // "gone" when it is being left (nothing will read the answer). Returns a promise that
  // settles once this save is answered.
  Answer.prototype.save = function (mode) {
    var self = this;
    if (this.stopped || signedOut || !this.unsent()) {
      return Promise.resolve();
    }
    var body = this.textarea.value;
    var base = Number(this.revision.value);
    if (this.inflight !== null) {
      if (mode === "gone") {
        // No answer will come back: send and forget, based on the revision the save in
        // flight makes (if that one fails, this is refused and the text stays here).
        this.beacon(body, base + 1);
      } else {
        this.again = mode || "typing";
      }
      return this.inflight;
    }
    if (mode === "gone") {
      this.beacon(body, base);
      return Promise.resolve();
    }
    var encoded = encode(this.fields(body, base));
    var keepalive = mode === "hidden" && KEEPALIVE && fits(encoded.bytes);
    var reserved = keepalive ? encoded.bytes : 0;
    keepaliveInFlight += reserved;
    var slow = window.setTimeout(function () {
      self.say(message("saving"));
    }, SLOW_MS);
    this.inflightBody = body;
    this.inflight = this.send(encoded, keepalive)
      .then(function (response) {
        var retry = Number(response.headers.get("Retry-After"));
        return response.json().then(
          function (data) {
            return { status: response.status, data: data, retry: retry };
          },
          function () {
            return { status: response.status, data: null, retry: retry };
          }
        );
      })
      .then(
        function (result) {
          self.answered(body, result.status, result.data, result.retry);
        },
        function () {
          // No answer: the server may still have stored it (gone between its commit and
          // its reply). Remembered, so that the conflict it would cause is known as ours.
          self.unanswered = body;
          self.say(message("offline"));
          self.schedule(RETRY_MS);
        }
      )
      .then(function () {
        window.clearTimeout(slow);
        keepaliveInFlight -= reserved;
        self.inflight = null;
        self.inflightBody = null;
        if (self.again !== null) {
          var again = self.again === "typing" ? undefined : self.again;
          self.again = null;
          return self.save(again);
        }
      });
    return this.inflight;
  };

  // A save whose answer nobody reads: fetch keepalive, else a beacon (older browsers
  // have no keepalive; a beacon carries the form's CSRF field instead of a header).
  // False when the text is too large to go: it stays on this device.
  Answer.prototype.beacon = function (body, base) {
    var fields = this.fields(body, base);
    if (KEEPALIVE) {
      var encoded = encode(fields);
      if (!fits(encoded.bytes)) {
        return false;
      }
      keepaliveInFlight += encoded.bytes;
      this.send(encoded, true)
        .catch(function () {})
        .then(function () {
          keepaliveInFlight -= encoded.bytes;
        });
      return true;
    }
    return Boolean(navigator.sendBeacon) && navigator.sendBeacon(this.url, encode(fields, true).body);
  };

  // The bytes leaving the page would need to send this answer (0: nothing to send).
  Answer.prototype.bytesToLeave = function () {
    if (this.stopped || !this.unsent() || this.textarea.value === this.inflightBody) {
      return 0;
    }
    return encode(this.fields(this.textarea.value, Number(this.revision.value))).bytes;
  };

  // retry: the server's Retry-After in seconds (a database busy for a moment), if any.
  Answer.prototype.answered = function (body, status, data, retry) {
    if (status === 200 && data && typeof data.revision === "number") {
      this.unanswered = null;
      this.revision.value = String(data.revision);
      this.saved = body;
      this.refused = null;
      this.say(this.notice ? data.message + " " + this.notice : data.message);
      this.notice = null;
      if (this.textarea.value === body) {
        this.since = 0;
        copies.forget(this.key);
      } else {
        this.schedule();
      }
    } else if (status === 409 && data && data.conflict && data.body === this.unanswered) {
      // The "newer" text is this page's own save whose answer never came: it was stored.
      // Carry on from it, as if its answer had arrived; nobody else changed anything.
      this.revision.value = String(data.revision);
      this.saved = data.body;
      this.unanswered = null;
      this.schedule(0);
    } else if (status === 409 && data && data.conflict) {
      // Another tab or device saved a newer text. Keep ours here, and let the
      // server's conflict page show both texts side by side.
      this.keep({ conflict: true });
      this.say(data.message);
      sendPage(null);
    } else if (status === 401) {
      endOfSession();
    } else if (status >= 500 || status === 429) {
      // The text stays on this device (kept while typing) and is sent again.
      this.say((data && data.error) || message("offline"));
      this.schedule(retry > 0 ? Math.min(retry * 1000, RETRY_MS) : RETRY_MS);
    } else {
      // The server will not take this text as it is: sending it again would not help.
      // It stays on this device; the learner's next change is sent as usual.
      this.refused = body;
      this.say(((data && data.error) || message("failed")) + " " + message("refused"));
    }
  };

  Answer.prototype.restore = function () {
    var copy = copies.load(this.key);
    if (!copy || typeof copy.body !== "string") {
      return;
    }
    var server = this.textarea.value;
    if (copy.body === server || (server.trim() !== "" && contains(server, copy.body))) {
      copies.forget(this.key);
    } else if (copy.base === Number(this.revision.value) && !copy.conflict) {
      // Typed here, never received, and nothing newer since: put it back and save it.
      this.textarea.value = copy.body;
      this.clean();
      this.say(message("restored"));
      this.since = Date.now();
      this.schedule(0);
    } else {
      this.showDeviceCopy(copy.body);
    }
  };

  Answer.prototype.showDeviceCopy = function (body) {
    var self = this;
    var box = this.box.querySelector("[data-device-copy]");
    if (!box) {
      return;
    }
    box.querySelector("textarea").value = body;
    box.hidden = false;
    box.querySelector("[data-device-copy-discard]").addEventListener("click", function () {
      copies.forget(self.key);
      box.hidden = true;
      self.textarea.focus();
    });
  };

  Answer.prototype.start = function () {
    var self = this;
    this.restore();
    this.textarea.addEventListener("input", function () {
      self.clean();
      if (!self.since) {
        self.since = Date.now();
      }
      self.keep();
      if (signedOut) {
        self.saySignedOut();
      } else {
        self.schedule();
      }
    });
  };

  // Save what is typed now, after the save in flight: before signing out.
  Answer.prototype.flush = function () {
    var self = this;
    window.clearTimeout(this.timer);
    return (this.inflight || Promise.resolve()).then(function () {
      return self.save();
    });
  };

  var answers = [];
  page.querySelectorAll("[data-answer]").forEach(function (box) {
    if (box.querySelector("textarea") && box.querySelector('input[name$="-revision"]')) {
      answers.push(new Answer(box));
    }
  });

  function stopAll() {
    answers.forEach(function (answer) {
      answer.stopped = true;
      window.clearTimeout(answer.timer);
    });
  }

  // The page's form goes, carrying every box: from the button pressed (submitter), or
  // with none after a conflict.
  function sendPage(submitter) {
    stopAll();
    sending = true;
    if (submitter && typeof page.requestSubmit === "function") {
      page.requestSubmit(submitter);
      return;
    }
    if (submitter && submitter.name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = submitter.name;
      input.value = submitter.value;
      page.appendChild(input);
    }
    page.submit();
  }

  function endOfSession() {
    signedOut = true;
    answers.forEach(function (answer) {
      window.clearTimeout(answer.timer);
      if (answer.unsent()) {
        answer.saySignedOut();
      }
    });
  }

  function saveAll(mode) {
    answers.forEach(function (answer) {
      answer.save(mode);
    });
  }

  page.addEventListener("submit", function (event) {
    var busy = answers.filter(function (answer) {
      return answer.inflight !== null;
    });
    if (busy.length && !sending) {
      // Wait for the saves in flight, so the form is based on the revisions they make.
      event.preventDefault();
      var submitter = event.submitter || null;
      stopAll();
      Promise.all(
        busy.map(function (answer) {
          return answer.inflight;
        })
      ).then(function () {
        sendPage(submitter);
      });
      return;
    }
    stopAll(); // the form carries the texts now
    sending = true;
  });

  // Before the page is left: text too large to go out as it is left is not lost (it
  // stays here), but the learner is asked, and can stay while it is saved.
  window.addEventListener("beforeunload", function (event) {
    if (sending || signedOut || document.querySelector("form[data-sign-out][data-checked]")) {
      return;
    }
    var bytes = 0;
    var kept = [];
    answers.forEach(function (answer) {
      var needed = answer.bytesToLeave();
      bytes += needed;
      if (needed && !fits(bytes)) {
        kept.push(answer);
      }
    });
    if (kept.length) {
      kept.forEach(function (answer) {
        answer.say(message("too-long-to-send"));
        answer.schedule(0); // if the learner stays, it is saved now
      });
      event.preventDefault();
      event.returnValue = "";
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      saveAll("hidden");
    }
  });
  window.addEventListener("pagehide", function () {
    saveAll("gone");
  });
  window.addEventListener("online", function () {
    saveAll();
  });

  copies.beforeSignOut(function () {
    return Promise.all(
      answers.map(function (answer) {
        return answer.flush();
      })
    );
  });

  // Saving by itself now: say so, instead of the words for a page without this script.
  page.querySelectorAll("[data-autosave-hint]").forEach(function (hint) {
    hint.hidden = false;
  });
  page.querySelectorAll("[data-manual-hint]").forEach(function (hint) {
    hint.hidden = true;
  });
  answers.forEach(function (answer) {
    answer.start();
  });
  // Armed: bench/mobile.py times a lesson's load on a slow phone up to this mark.
  if (window.performance && typeof window.performance.mark === "function") {
    window.performance.mark("autosave-armed");
  }
})();
