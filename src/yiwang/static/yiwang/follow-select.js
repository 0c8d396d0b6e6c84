/* A <select data-follows="village"> lists only the options whose data-parent is the value chosen in
   the same form's "village" select (the grids of the chosen 嘎查村). With nothing chosen there it lists
   all of them, and choosing one fills in its parent. Options without data-parent (the empty
   choice) always stay. Served locally; no dependencies. */
(function () {
  "use strict";

  function bind(child) {
    var form = child.form;
    var parent = form && form.elements.namedItem(child.getAttribute("data-follows"));
    if (!parent || parent.tagName !== "SELECT") return;
    var all = Array.prototype.map.call(child.options, function (o) { return o.cloneNode(true); });

    function narrow() {
      var chosen = parent.value;
      var current = child.value;
      var keep = all.filter(function (o) {
        var of = o.getAttribute("data-parent");
        return !of || !chosen || of === chosen;
      });
      child.replaceChildren.apply(child, keep.map(function (o) { return o.cloneNode(true); }));
      var stillThere = keep.some(function (o) { return o.value === current; });
      child.value = stillThere ? current : "";
      if (!stillThere && current) child.dispatchEvent(new Event("change", { bubbles: true }));
    }

    parent.addEventListener("change", narrow);
    child.addEventListener("change", function () {
      var option = child.options[child.selectedIndex];
      var of = option && option.getAttribute("data-parent");
      if (of && !parent.value) {
        parent.value = of;
        narrow();
      }
    });
    narrow();
  }

  document.querySelectorAll("select[data-follows]").forEach(bind);
})();
