// Measured in the page by test_screens.py: overflow, small targets, clipped labels, controls high up,
// pictures overlapping text or controls, too small to read, or drawn off the palette (high contrast).
({lowZone, target}) => {
  const vw = innerWidth, vh = innerHeight,
    out = {overflow: [], small: [], high: [], clipped: [], overlap: [], unreadable: [], offPalette: []};
  const shown = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('[hidden]'); };
  const name = el => (el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + [...el.classList].join('.'))
    + ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 20) + '"';
  if (document.documentElement.scrollWidth > vw || document.documentElement.scrollHeight > vh)
    out.overflow.push('page ' + document.documentElement.scrollWidth + 'x' + document.documentElement.scrollHeight);
  // what is painted of an element: a drawing inside an inline <svg> is clipped by it (its default overflow),
  // as the USB stick sliding in from beyond the picture's edge is
  const painted = el => { const r = el.getBoundingClientRect(), svg = el.parentElement?.closest('svg');
    if (!svg || getComputedStyle(svg).overflow === 'visible') return r;
    const s = svg.getBoundingClientRect();
    return {left: Math.max(r.left, s.left), right: Math.min(r.right, s.right)}; };
  for (const el of document.querySelectorAll('#screen *, .overlay *')) {
    if (!shown(el)) continue;
    const r = painted(el);
    if (r.right > vw + 1 || r.left < -1) out.overflow.push(name(el) + ' x ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  // the part of an element the customer sees: inside every box that scrolls or clips it (the panel, the
  // done screen's details)
  const seen = el => { const r = el.getBoundingClientRect(); let top = r.top, bottom = r.bottom;
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (!/(auto|scroll|hidden)/.test(getComputedStyle(a).overflowY)) continue;
      const b = a.getBoundingClientRect(); top = Math.max(top, b.top); bottom = Math.min(bottom, b.bottom); }
    return {top, bottom, left: r.left, right: r.right}; };
  const cards = 'label.check, label.radio-choice, label.certificate-card';   // a label that is the target
  const controls = 'button, .key, a.button, select, ' + cards + ', ' +
    'input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
  const modal = document.querySelector('.overlay:not([hidden])');
  for (const el of document.querySelectorAll(controls)) {
    if (!shown(el) || (modal && !modal.contains(el)) || el.closest(cards) && el !== el.closest('label')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < target - 0.5 || r.height < target - 0.5) out.small.push(name(el) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
    if ((el.matches('button, .key, a.button')) && el.scrollWidth > el.clientWidth + 1) out.clipped.push(name(el));
    // what the customer can touch now: the part of the control inside its scrolling boxes
    const {top, bottom} = seen(el);
    if (bottom > top && top < vh * lowZone - 1) out.high.push(name(el) + ' top ' + Math.round(top));
  }
  // pictures (templates/pictures): nothing of the panel's text or controls under them, wide enough to
  // read, and every stroke and fill one of the palette's colours (so high contrast redraws them)
  const pictures = [...document.querySelectorAll('#screen .picture')].filter(shown);
  const content = [...document.querySelectorAll('#panel :is(h1, h2, p, li, dt, dd, label, legend, input, button, .message)')]
    .filter(el => shown(el) && !el.closest('.picture'));
  const probe = document.createElement('i'); document.body.appendChild(probe);
  const rootStyle = getComputedStyle(document.documentElement);
  const palette = new Set(['--bg', '--fg', '--muted', '--accent', '--ok', '--err', '--line', '--surface'].map(v => {
    probe.style.color = rootStyle.getPropertyValue(v).trim(); return getComputedStyle(probe).color; }));
  probe.remove();
  for (const pic of pictures) {
    const p = seen(pic);
    if (p.right - p.left < 240) out.unreadable.push(name(pic) + ' ' + Math.round(p.width) + 'px wide');
    for (const el of content) {
      if (el.contains(pic)) continue;
      const r = seen(el);
      const w = Math.min(p.right, r.right) - Math.max(p.left, r.left), h = Math.min(p.bottom, r.bottom) - Math.max(p.top, r.top);
      if (w > 1 && h > 1) out.overlap.push(name(pic) + ' over ' + name(el));
    }
    for (const shape of pic.querySelectorAll('rect, circle, path, line, text')) {
      if (!shown(shape) && shape.tagName !== 'line' && shape.tagName !== 'path') continue;
      const s = getComputedStyle(shape);
      for (const paint of [s.fill, s.stroke]) {
        if (paint !== 'none' && !paint.startsWith('url(') && !palette.has(paint)) out.offPalette.push(name(pic) + ' ' + shape.tagName + ' ' + paint);
      }
    }
  }
  return out;
}
