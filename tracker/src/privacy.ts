/**
 * Turns the tracker's privacy options into rrweb record() options. Defaults follow the design:
 * every input masked, [data-tandem-mask] text masked, [data-tandem-block] elements not recorded;
 * 'strict' masks all text. Passwords are masked whatever the options say.
 */

export const MASK_ATTRIBUTE_SELECTOR = '[data-tandem-mask]';
export const BLOCK_ATTRIBUTE_SELECTOR = '[data-tandem-block]';

export type PrivacyMode = 'default' | 'strict';

export interface PrivacyOptions {
  privacy?: PrivacyMode;
  /** Default true. False records input values except passwords (and masked/blocked elements). */
  maskAllInputs?: boolean;
  maskTextSelector?: string;
  blockSelector?: string;
}

type MaskInputOptions = Partial<Record<
  'color' | 'date' | 'datetime-local' | 'email' | 'month' | 'number' | 'range' | 'search' | 'tel' | 'text' | 'time' | 'url' | 'week' | 'textarea' | 'select' | 'password',
  boolean
>>;

export interface RecordPrivacyOptions {
  maskAllInputs: boolean;
  maskInputOptions: MaskInputOptions;
  maskInputFn: (text: string, element: HTMLElement) => string;
  maskTextSelector: string;
  blockSelector: string;
}

const ALL_INPUTS: MaskInputOptions = {
  color: true, date: true, 'datetime-local': true, email: true, month: true, number: true, range: true, search: true,
  tel: true, text: true, time: true, url: true, week: true, textarea: true, select: true, password: true,
};

/** Fixed mask for passwords: unlike other inputs, not even their length is worth recording. */
export const PASSWORD_MASK = '********';

/** Password fields, including ones a "show password" toggle turned into type=text (rrweb marks those). */
export function isPasswordField(el: Element | null | undefined): boolean {
  if (!el || typeof (el as Element).getAttribute !== 'function') return false;
  const type = (el.getAttribute('type') || '').toLowerCase();
  const auto = (el.getAttribute('autocomplete') || '').toLowerCase();
  return (
    type === 'password' ||
    el.hasAttribute('data-rr-is-password') ||
    auto.includes('password') ||
    auto === 'one-time-code' ||
    (el as HTMLInputElement).type === 'password'
  );
}

export function maskInputValue(text: string, el: HTMLElement): string {
  if (isPasswordField(el)) return text ? PASSWORD_MASK : '';
  return '*'.repeat(text.length);
}

function joinSelectors(...parts: (string | undefined)[]): string {
  return parts.map((p) => p?.trim()).filter((p): p is string => !!p).join(', ');
}

export function buildPrivacyOptions(opts: PrivacyOptions = {}): RecordPrivacyOptions {
  const strict = opts.privacy === 'strict';
  const maskAllInputs = strict || opts.maskAllInputs !== false;
  return {
    maskAllInputs,
    // Used by rrweb only when maskAllInputs is false: passwords stay masked even then.
    maskInputOptions: maskAllInputs ? { ...ALL_INPUTS } : { password: true },
    maskInputFn: maskInputValue,
    maskTextSelector: strict ? '*' : joinSelectors(MASK_ATTRIBUTE_SELECTOR, opts.maskTextSelector),
    blockSelector: joinSelectors(BLOCK_ATTRIBUTE_SELECTOR, opts.blockSelector),
  };
}
