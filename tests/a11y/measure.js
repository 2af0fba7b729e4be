// Measured in the page by test_screens.py: overflow, small targets, clipped labels, controls high up.
({lowZone, target}) => {
  const vw = innerWidth, vh = innerHeight, out = {overflow: [], small: [], high: [], clipped: []};
  const shown = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('[hidden]'); };
  const name = el => (el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + [...el.classList].join('.'))
    + ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 20) + '"';
  if (document.documentElement.scrollWidth > vw || document.documentElement.scrollHeight > vh)
    out.overflow.push('page ' + document.documentElement.scrollWidth + 'x' + document.documentElement.scrollHeight);
  for (const el of document.querySelectorAll('#screen *, .overlay *')) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 || r.left < -1) out.overflow.push(name(el) + ' x ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  const cards = 'label.check, label.radio-choice, label.certificate-card';   // a label that is the target
  const controls = 'button, .key, a.button, select, ' + cards + ', ' +
    'input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
  const modal = document.querySelector('.overlay:not([hidden])');
  for (const el of document.querySelectorAll(controls)) {
    if (!shown(el) || (modal && !modal.contains(el)) || el.closest(cards) && el !== el.closest('label')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < target - 0.5 || r.height < target - 0.5) out.small.push(name(el) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
    if ((el.matches('button, .key, a.button')) && el.scrollWidth > el.clientWidth + 1) out.clipped.push(name(el));
    // what the customer can touch now: the part of the control inside its scrolling panel
    const panel = el.closest('.panel');
    const top = panel ? Math.max(r.top, panel.getBoundingClientRect().top) : r.top;
    const bottom = panel ? Math.min(r.bottom, panel.getBoundingClientRect().bottom) : r.bottom;
    if (bottom > top && top < vh * lowZone - 1) out.high.push(name(el) + ' top ' + Math.round(top));
  }
  return out;
}
