/**
 * Loads one of the tracker's lazy chunks as a classic `<script>` (like /tracker.js itself: no CORS
 * needed, and the CSP `script-src` entry that allows /tracker.js allows it too). The chunk registers
 * its module on `window[globalName]`; `valid` checks that it is the module we expect.
 */
export function loadChunkScript<T>(doc: Document, url: string, globalName: string, valid: (m: unknown) => boolean): Promise<T> {
  const win = doc.defaultView as (Window & Record<string, unknown>) | null;
  const ready = () => (valid(win?.[globalName]) ? (win![globalName] as T) : undefined);
  const now = ready();
  if (now) return Promise.resolve(now);
  return new Promise<T>((resolve, reject) => {
    const script = doc.createElement('script');
    script.src = url;
    script.async = true;
    script.onload = () => {
      script.remove();
      const mod = ready();
      if (mod) resolve(mod);
      else reject(new Error(`${url} did not register ${globalName}`));
    };
    script.onerror = () => {
      script.remove();
      reject(new Error(`could not load ${url}`));
    };
    (doc.head || doc.documentElement).appendChild(script);
  });
}
