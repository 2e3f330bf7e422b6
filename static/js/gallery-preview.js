// Gallery cards play a muted preview of their video on hover, keyboard focus or a first tap.
//
// The <video> is made only when someone asks for it and is taken away again afterwards, so a page of
// cards downloads posters only, never every video. Listeners sit on the document, not on cards,
// because htmx keeps swapping cards in (live updates, "show older").
//
// Touch has no hover: there the first tap on a card plays its preview instead of opening the card,
// and a tap on a card that is already playing opens it. With "reduce motion" set, hovering plays
// nothing; focusing or tapping a card still does, since the person picked that card.
(() => {
  const CARD = "a.gcard-media[data-preview]";
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  // Why each card is playing (hover, focus, tap). It stops once no reason is left, so a card that is
  // both focused and hovered keeps playing when only one of the two ends.
  const reasons = new WeakMap();
  let lastPointerType = "";
  let wasPlayingAtPointerDown = false;

  const cardOf = (node) => (node instanceof Element ? node.closest(CARD) : null);
  const videoOf = (link) => link.querySelector("video.gcard-preview");

  function play(link) {
    let video = videoOf(link);
    if (video) return;
    // One preview at a time: starting another stops the rest, so at most one video is ever loading.
    document.querySelectorAll(CARD).forEach((other) => {
      if (other !== link) stop(other);
    });
    video = document.createElement("video");
    video.className = "gcard-preview";
    // Muted and inline, otherwise browsers refuse to start it without a click (and phones go full screen).
    video.muted = true;
    video.defaultMuted = true;
    video.loop = true;
    video.playsInline = true;
    video.preload = "auto";
    video.disablePictureInPicture = true;
    for (const name of ["muted", "loop", "playsinline"]) video.setAttribute(name, "");
    video.setAttribute("aria-hidden", "true"); // the link already says what the card is
    // The poster is already on screen: show it until the first frame is ready, with no black flash.
    const poster = link.querySelector("img");
    if (poster) video.poster = poster.currentSrc || poster.src;
    video.addEventListener("playing", () => link.classList.add("is-previewing"));
    video.src = link.dataset.preview;
    link.append(video);
    video.play().catch(() => {}); // refused, or stopped again before it started: the poster stays
  }

  function stop(link) {
    reasons.delete(link);
    link.classList.remove("is-previewing");
    const video = videoOf(link);
    if (!video) return;
    video.pause();
    // Dropping the source and reloading ends the download and frees what was buffered.
    video.removeAttribute("src");
    video.load();
    video.remove();
  }

  function want(link, reason) {
    if (!reasons.has(link)) reasons.set(link, new Set());
    reasons.get(link).add(reason);
    play(link);
  }

  function release(link, reason) {
    const why = reasons.get(link);
    if (!why) return;
    why.delete(reason);
    if (why.size === 0) stop(link);
  }

  // pointerenter and pointerleave do not bubble, so they are caught on the way down instead.
  document.addEventListener(
    "pointerenter",
    (event) => {
      if (event.pointerType === "touch" || reduceMotion.matches) return;
      const link = event.target instanceof Element && event.target.matches(CARD) ? event.target : null;
      if (link) want(link, "hover");
    },
    true,
  );
  document.addEventListener(
    "pointerleave",
    (event) => {
      // A finger "leaves" as soon as it lifts: that must not stop the preview the tap just started.
      if (event.pointerType === "touch") return;
      const link = event.target instanceof Element && event.target.matches(CARD) ? event.target : null;
      if (link) release(link, "hover");
    },
    true,
  );

  document.addEventListener("focusin", (event) => {
    const link = cardOf(event.target);
    if (link) want(link, "focus");
  });
  document.addEventListener("focusout", (event) => {
    const link = cardOf(event.target);
    if (link && !link.contains(event.relatedTarget)) release(link, "focus");
  });

  document.addEventListener(
    "pointerdown",
    (event) => {
      lastPointerType = event.pointerType;
      const link = cardOf(event.target);
      // Noted before the tap can focus the card (which starts it), to tell a first tap from a second.
      wasPlayingAtPointerDown = Boolean(link && videoOf(link));
      if (event.pointerType !== "touch") return;
      // Touching anything else ends a preview that a tap started.
      document.querySelectorAll(CARD).forEach((other) => {
        if (other !== link) release(other, "tap");
      });
    },
    true,
  );

  document.addEventListener("click", (event) => {
    const link = cardOf(event.target);
    // event.detail is 0 for a click made with the keyboard (Enter): that always opens the card.
    if (!link || event.detail === 0 || (event.pointerType || lastPointerType) !== "touch") return;
    if (wasPlayingAtPointerDown) return; // second tap: follow the link
    event.preventDefault();
    want(link, "tap");
  });
})();
