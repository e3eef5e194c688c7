// The availability change stream (Server-Sent Events) with reconnection.
//
// EventSource reconnects by itself after a dropped connection (sending Last-Event-ID, so the server replays what
// was missed). When it gives up (readyState CLOSED: an HTTP error, a wrong content type), we create a new one
// after a growing, jittered delay. Every `open` is reported so the page can refetch: a fresh EventSource has no
// Last-Event-ID, and the first connection may open after the page's first snapshot was read.

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 10_000;

export class LiveStream {
  /**
   * @param {string} url
   * @param {{onEvent?: (data: any, lastEventId: string) => void, onReset?: () => void,
   *          onOpen?: (info: {first: boolean}) => void, onState?: (state: 'connecting'|'live'|'paused') => void}} handlers
   */
  constructor(url, handlers = {}) {
    this.url = url;
    this.handlers = handlers;
    this.es = null;
    this.timer = null;
    this.failures = 0;
    this.openedOnce = false;
    this.stopped = true;
    this.state = 'connecting';
    this.onOnline = () => {
      if (!this.stopped && this.state !== 'live') this.connect();
    };
    this.onPageHide = (e) => {
      // Leaving (or entering the back/forward cache): close cleanly, come back on pageshow.
      if (e.persisted) this.stop();
    };
    this.onPageShow = (e) => {
      if (e.persisted) this.start();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('pagehide', this.onPageHide);
    window.addEventListener('pageshow', this.onPageShow);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.es) this.es.close();
    this.es = null;
    window.removeEventListener('online', this.onOnline);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.handlers.onState?.(state);
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.es) this.es.close();
    if (typeof EventSource === 'undefined') {
      this.setState('paused');
      return;
    }
    const es = new EventSource(this.url);
    this.es = es;
    if (!this.openedOnce) this.handlers.onState?.('connecting');

    es.addEventListener('open', () => {
      if (this.es !== es) return;
      const first = !this.openedOnce;
      this.openedOnce = true;
      this.failures = 0;
      this.setState('live');
      this.handlers.onOpen?.({ first });
    });

    es.addEventListener('error', () => {
      if (this.es !== es || this.stopped) return;
      this.setState('paused');
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        this.scheduleReconnect();
      }
      // readyState CONNECTING: the browser is already retrying; 'open' will clear the pause.
    });

    es.addEventListener('availability', (ev) => {
      if (this.es !== es) return;
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return; // not JSON: nothing we can apply
      }
      if (!data || typeof data !== 'object') return;
      this.handlers.onEvent?.(data, ev.lastEventId);
    });

    es.addEventListener('reset', () => {
      if (this.es !== es) return;
      this.handlers.onReset?.();
    });
  }

  scheduleReconnect() {
    clearTimeout(this.timer);
    const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.failures);
    this.failures += 1;
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.timer = setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }
}
