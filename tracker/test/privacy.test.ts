import { describe, expect, it } from 'vitest';
import { PASSWORD_MASK, buildPrivacyOptions, isPasswordField, maskInputValue } from '../src/privacy.js';

/** Minimal Element stand-in: privacy.ts only reads attributes. */
function el(attrs: Record<string, string>): HTMLElement {
  return {
    getAttribute: (n: string) => attrs[n] ?? null,
    hasAttribute: (n: string) => n in attrs,
    type: attrs.type ?? 'text',
  } as unknown as HTMLElement;
}

describe('buildPrivacyOptions', () => {
  it('defaults: all inputs masked, tandem mask/block attributes honoured', () => {
    const o = buildPrivacyOptions();
    expect(o.maskAllInputs).toBe(true);
    expect(o.maskInputOptions.password).toBe(true);
    expect(o.maskInputOptions.email).toBe(true);
    expect(o.maskTextSelector).toBe('[data-tandem-mask]');
    expect(o.blockSelector).toBe('[data-tandem-block]');
  });

  it('adds user selectors to ours instead of replacing them', () => {
    const o = buildPrivacyOptions({ maskTextSelector: '.pii', blockSelector: '#card' });
    expect(o.maskTextSelector).toBe('[data-tandem-mask], .pii');
    expect(o.blockSelector).toBe('[data-tandem-block], #card');
  });

  it('keeps passwords masked when all-input masking is turned off', () => {
    const o = buildPrivacyOptions({ maskAllInputs: false });
    expect(o.maskAllInputs).toBe(false);
    expect(o.maskInputOptions).toEqual({ password: true });
  });

  it('strict mode masks all text and all inputs whatever else is asked', () => {
    const o = buildPrivacyOptions({ privacy: 'strict', maskAllInputs: false, maskTextSelector: '.x' });
    expect(o.maskTextSelector).toBe('*');
    expect(o.maskAllInputs).toBe(true);
    expect(o.maskInputOptions.password).toBe(true);
    expect(o.maskInputOptions.text).toBe(true);
  });
});

describe('maskInputValue', () => {
  it('never reveals a password, not even its length', () => {
    expect(maskInputValue('hunter2', el({ type: 'password' }))).toBe(PASSWORD_MASK);
    expect(maskInputValue('a-much-longer-password', el({ type: 'password' }))).toBe(PASSWORD_MASK);
    expect(maskInputValue('', el({ type: 'password' }))).toBe('');
  });

  it('treats shown passwords (rrweb marker) and password autocomplete as passwords', () => {
    expect(isPasswordField(el({ type: 'text', 'data-rr-is-password': 'true' }))).toBe(true);
    expect(isPasswordField(el({ type: 'text', autocomplete: 'current-password' }))).toBe(true);
    expect(isPasswordField(el({ type: 'text' }))).toBe(false);
    expect(maskInputValue('secret', el({ type: 'text', autocomplete: 'new-password' }))).toBe(PASSWORD_MASK);
  });

  it('masks other inputs keeping their length (typing stays visible in replay)', () => {
    expect(maskInputValue('Ada', el({ type: 'text' }))).toBe('***');
  });
});
