// The face boxes of the people partial (templates/people/_photo_people.html) go over the picture: shown when the
// pointer is on the picture, and one at a time when it is on a person's line.
(function () {
  const boxes = document.querySelector(".photo-people .face-boxes");
  const image = document.querySelector(".viewer img");
  if (!boxes || !image) return;
  const frame = document.createElement("span");
  frame.className = "face-frame";
  image.replaceWith(frame);
  frame.append(image, boxes);
  boxes.hidden = false;
  document.querySelectorAll(".photo-faces li[data-face]").forEach((line) => {
    const box = boxes.querySelector(`[data-face="${line.dataset.face}"]`);
    line.addEventListener("mouseenter", () => box.classList.add("lit"));
    line.addEventListener("mouseleave", () => box.classList.remove("lit"));
    line.addEventListener("focusin", () => box.classList.add("lit"));
    line.addEventListener("focusout", () => box.classList.remove("lit"));
  });
})();
