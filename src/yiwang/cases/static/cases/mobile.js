/* Phone case screens: a little help on top of plain forms that work without it.

   - form[data-once]: one submit. The first submit disables the buttons and says "正在提交…"; a second
     tap while a slow connection is still posting does nothing. Coming back with the browser's back
     button (page restored from cache) makes the form usable again.
   - #yw-locate: fills 纬度/经度 from navigator.geolocation (tried once on load when they are empty);
     on refusal or timeout it says so and the fields stay open for typing.
   - #yw-report[data-duplicates-url]: when category, household or location change, asks the server for
     possible duplicates and shows them (with the "仍然上报" box) before anything is uploaded.
   - input[data-max-files]: more photos than allowed are refused at once, in Chinese.
   Served from our own static files; no dependencies. */
(function () {
  "use strict";

  function onceForms() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sending === "1") {
          event.preventDefault();
          return;
        }
        form.dataset.sending = "1";
        form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
          button.dataset.idleText = button.textContent;
          if (button.dataset.sendingText) button.textContent = button.dataset.sendingText;
          // disabled after this event's form data is built, so the button's own value is not lost
          window.setTimeout(function () { button.disabled = true; }, 0);
        });
      });
    });
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      document.querySelectorAll("form[data-once]").forEach(function (form) {
        form.dataset.sending = "";
        form.querySelectorAll("button").forEach(function (button) {
          button.disabled = false;
          if (button.dataset.idleText) button.textContent = button.dataset.idleText;
        });
      });
    });
  }

  function maxFiles() {
    document.querySelectorAll("input[type=file][data-max-files]").forEach(function (input) {
      var max = parseInt(input.dataset.maxFiles, 10);
      input.addEventListener("change", function () {
        var note = input.parentNode.querySelector(".yw-files-note");
        if (!note) {
          note = document.createElement("div");
          note.className = "yw-files-note form-text";
          input.parentNode.appendChild(note);
        }
        if (input.files.length > max) {
          note.className = "yw-files-note invalid-feedback d-block";
          note.textContent = "照片最多 " + max + " 张，您选了 " + input.files.length + " 张，请重新选择";
          input.value = "";
        } else {
          note.className = "yw-files-note form-text";
          note.textContent = input.files.length ? "已选 " + input.files.length + " 张照片" : "";
        }
      });
    });
  }

  function locate(form, onFound) {
    var button = document.getElementById("yw-locate");
    var status = document.getElementById("yw-locate-status");
    var lat = form.elements.namedItem("latitude");
    var lon = form.elements.namedItem("longitude");
    if (!button || !lat || !lon) return;
    if (!("geolocation" in navigator)) {
      status.textContent = "此浏览器不能自动定位：请手动填写经纬度，或只填详细地点。";
      return;
    }
    button.hidden = false;
    function ask() {
      status.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        status.textContent = "已定位（精度约 " + Math.round(position.coords.accuracy) + " 米）";
        onFound();
      }, function () {
        status.textContent = "未能获取位置：请手动填写经纬度，或只填详细地点。";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    }
    button.addEventListener("click", ask);
    if (!lat.value && !lon.value) ask();
  }

  function duplicateHints(form) {
    var url = form.dataset.duplicatesUrl;
    var box = document.getElementById("yw-duplicates");
    if (!url || !box || !window.fetch) return function () {};
    var pending = null;
    function check() {
      var params = new URLSearchParams();
      ["category_group", "category", "household", "latitude", "longitude"].forEach(function (name) {
        var field = form.elements.namedItem(name);
        if (field && field.value) params.append(name, field.value);
      });
      var confirmed = form.elements.namedItem("confirm_new");
      var wasConfirmed = confirmed && confirmed.checked;
      var query = params.toString();
      if (query === pending) return;
      pending = query;
      fetch(url + "?" + query, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          if (query !== pending) return;
          box.innerHTML = html;
          var again = form.elements.namedItem("confirm_new");
          if (again && wasConfirmed) again.checked = true;
        })
        .catch(function () { /* weak signal: the server checks again on submit */ });
    }
    ["category_group", "category", "household", "latitude", "longitude"].forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field) field.addEventListener("change", check);
    });
    return check;
  }

  onceForms();
  maxFiles();
  var report = document.getElementById("yw-report");
  if (report) locate(report, duplicateHints(report));
})();
