// A page picture that is still being laid out (an office document's first view) answers 503 with
// Retry-After: ask again every two seconds, for up to two minutes, then say so.
(function () {
  var image = document.getElementById("page-image");
  if (!image) return;
  var tries = 0;
  image.addEventListener("error", function () {
    tries += 1;
    if (tries > 60) {
      image.alt = "The page picture could not be made; the text is beside.";
      return;
    }
    setTimeout(function () {
      image.src = image.src.split("?")[0] + "?try=" + tries;
    }, 2000);
  });
})();
