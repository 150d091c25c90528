// Debian's Chromium driven by playwright-core: one browser, a context per
// person, a fake camera and microphone, and helpers to look inside the
// page's WebRTC connections.

import fs from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { ARTIFACTS } from './services.mjs';
import { until } from './wait.mjs';

export const CHROMIUM = process.env.STREAMSHARE_E2E_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  // Several people share one browser; none of their tabs is in front.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required',
];

export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set STREAMSHARE_E2E_CHROMIUM)`);
  }
  // playwright-core passes --headless itself when `headless` is true; the
  // new headless mode is asked for explicitly in FLAGS.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/**
 * Runs in every page of a context before the app: keeps every
 * RTCPeerConnection the app makes in `window.__e2e.pcs`, optionally forcing
 * `iceTransportPolicy` (scenario 7: relay only).
 */
function instrumentWebRtc(icePolicy) {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const pcs = [];
  class Instrumented extends Native {
    constructor(config, ...rest) {
      const effective = { ...(config ?? {}) };
      if (icePolicy) effective.iceTransportPolicy = icePolicy;
      super(effective, ...rest);
      pcs.push(this);
    }
  }
  window.RTCPeerConnection = Instrumented;
  window.__e2e = { pcs, icePolicy: icePolicy ?? null };
}

/** Every page's console and errors, for the final check. */
export const allConsoleLines = [];

/** A new person: their own context (cookies, storage), camera allowed. */
export async function newPerson(browser, baseUrl, { icePolicy = null, bypassCSP = false } = {}) {
  const context = await browser.newContext({
    baseURL: baseUrl,
    // Only for running a third-party client inside the app's own origin:
    // its strict CSP forbids importing the client from the test's site.
    bypassCSP,
    viewport: { width: 1280, height: 900 },
    permissions: ['camera', 'microphone'],
  });
  await context.addInitScript(instrumentWebRtc, icePolicy);
  const page = await context.newPage();
  const consoleLines = [];
  const log = (line) => {
    consoleLines.push(line);
    allConsoleLines.push(line);
  };
  page.on('console', (msg) => log(`[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (error) => log(`[pageerror] ${error.message}`));
  return { context, page, consoleLines };
}

let shotSeq = 0;

/** Saves a full-page screenshot as test-artifacts/e2e/NN-name.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  shotSeq += 1;
  const file = path.join(ARTIFACTS, `${String(shotSeq).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  return file;
}

/**
 * What the page's WebRTC connections report: per connection its states and
 * the receiving video's counters, and the selected candidate pair.
 */
export function webrtcStats(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__e2e?.pcs ?? []) {
      const entry = {
        connectionState: pc.connectionState,
        iceConnectionState: pc.iceConnectionState,
        signalingState: pc.signalingState,
        video: null,
        audio: null,
        outboundVideo: null,
        dtlsState: null,
        localCandidateType: null,
        remoteCandidateType: null,
        localProtocol: null,
      };
      if (pc.connectionState === 'closed') {
        out.push(entry);
        continue;
      }
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          entry.video = {
            framesDecoded: s.framesDecoded ?? 0,
            packetsReceived: s.packetsReceived ?? 0,
            bytesReceived: s.bytesReceived ?? 0,
            frameWidth: s.frameWidth ?? 0,
            codec: byId.get(s.codecId)?.mimeType ?? null,
          };
        }
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          entry.audio = {
            packetsReceived: s.packetsReceived ?? 0,
            totalSamplesReceived: s.totalSamplesReceived ?? 0,
            codec: byId.get(s.codecId)?.mimeType ?? null,
          };
        }
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          entry.outboundVideo = {
            framesEncoded: s.framesEncoded ?? 0,
            packetsSent: s.packetsSent ?? 0,
            codec: byId.get(s.codecId)?.mimeType ?? null,
          };
        }
        if (s.type === 'transport') {
          entry.dtlsState = s.dtlsState ?? null;
          const pair = byId.get(s.selectedCandidatePairId);
          if (pair) {
            entry.localCandidateType = byId.get(pair.localCandidateId)?.candidateType ?? null;
            entry.localProtocol = byId.get(pair.localCandidateId)?.relayProtocol ?? null;
            entry.remoteCandidateType = byId.get(pair.remoteCandidateId)?.candidateType ?? null;
          }
        }
      });
      out.push(entry);
    }
    return out;
  });
}

/** The receiving connection (the one with inbound video), or null. */
export async function viewerStats(page) {
  const all = await webrtcStats(page);
  return all.filter((e) => e.video).at(-1) ?? null;
}

/** The `<video>` of the room page: its intrinsic size and whether it plays. */
export function videoState(page, label) {
  return page.evaluate((name) => {
    const video = document.querySelector(`video[aria-label="${CSS.escape(name)}"]`);
    if (!video) return null;
    return {
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      paused: video.paused,
      readyState: video.readyState,
      currentTime: video.currentTime,
      hasStream: video.srcObject !== null,
    };
  }, label);
}

/**
 * Waits until the video labelled `label` has a picture, its decoded-frame
 * count keeps rising and audio packets arrive (the fake microphone's beeps,
 * Opus); answers the first stats seen with frames.
 */
export async function expectVideoPlays(page, label, what) {
  await until(`${what}: the video to have a size (videoWidth > 0)`, async () => (await videoState(page, label))?.videoWidth > 0, {
    timeoutMs: 30_000,
  });
  const first = await until(`${what}: decoded frames`, async () => {
    const s = await viewerStats(page);
    return s?.video?.framesDecoded > 0 ? s : null;
  });
  await until(`${what}: framesDecoded to keep rising`, async () => {
    const s = await viewerStats(page);
    return s.video.framesDecoded > first.video.framesDecoded + 10 ? s : null;
  });
  await until(`${what}: audio packets`, async () => (await viewerStats(page)).audio?.packetsReceived > 0);
  return first;
}
