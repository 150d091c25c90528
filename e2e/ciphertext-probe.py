#!/usr/bin/env python3
"""A server-side subscriber, as the SFU itself sees a room (issue 15).

Subscribes to a room by WHEP (RFC 9725's playback twin) with aiortc, a
WebRTC stack outside any browser, and for N seconds counts the RTP packets
that arrive and the video frames its VP8 decoder (libvpx) manages to decode.
In a plain room both rise; in an end-to-end encrypted room packets arrive
but no frame decodes: what the SFU forwards is ciphertext.

    python3 ciphertext-probe.py --url http://127.0.0.1:8080/api/media/whep/<roomId> \
        --token <a paid viewer's or the creator's access token> --seconds 8

Prints one JSON object: packets per kind, frames decoded, decode errors
logged by aiortc's decoders, the codecs, the first frame's size, and a
16x9 grey thumbnail of up to 8 decoded frames (to tell a picture from the
noise a decoder can make of ciphertext). `--save DIR` also writes the first
decoded frame as DIR/first-frame.pgm (320x180, grey).
"""

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError


class DecodeErrors(logging.Handler):
    """Counts what aiortc's codecs log when a frame does not decode."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0
        self.samples = []

    def emit(self, record):
        self.count += 1
        if len(self.samples) < 3:
            self.samples.append(record.getMessage()[:200])


def whep_post(url, token, sdp):
    request = urllib.request.Request(
        url,
        data=sdp.encode(),
        method="POST",
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.read().decode()


def grey(frame, width, height):
    """The frame scaled to width x height, 8-bit grey, row by row."""
    plane = frame.reformat(width=width, height=height, format="gray").planes[0]
    data = bytes(plane)
    return [b for row in range(height) for b in data[row * plane.line_size : row * plane.line_size + width]]


async def probe(url, token, seconds, save):
    errors = DecodeErrors()
    logging.getLogger("aiortc").addHandler(errors)
    logging.getLogger("aiortc").setLevel(logging.WARNING)

    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    result = {"framesDecoded": 0, "audioFramesDecoded": 0, "width": None, "height": None, "thumbnails": []}
    consumers = []

    async def consume(track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                result["framesDecoded"] += 1
                if result["width"] is None:
                    result["width"], result["height"] = frame.width, frame.height
                    if save:
                        os.makedirs(save, exist_ok=True)
                        with open(os.path.join(save, "first-frame.pgm"), "wb") as out:
                            out.write(b"P5 320 180 255\n" + bytes(grey(frame, 320, 180)))
                if len(result["thumbnails"]) < 8:
                    result["thumbnails"].append(grey(frame, 16, 9))
            else:
                result["audioFramesDecoded"] += 1

    @pc.on("track")
    def on_track(track):
        consumers.append(asyncio.ensure_future(consume(track)))

    offer = await pc.createOffer()
    await pc.setLocalDescription(offer)
    answer = await asyncio.to_thread(whep_post, url, token, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    await asyncio.sleep(seconds)

    packets = {"video": 0, "audio": 0}
    for transceiver in pc.getTransceivers():
        report = await transceiver.receiver.getStats()
        for stats in report.values():
            if stats.type == "inbound-rtp":
                packets[stats.kind] += stats.packetsReceived
    # The codecs the server's answer offers (its first video one is what it forwards).
    codecs = sorted(set(re.findall(r"a=rtpmap:\d+ ([A-Za-z0-9]+)/", answer)))
    await pc.close()
    for task in consumers:
        task.cancel()
    result.update(
        {
            "seconds": seconds,
            "videoPackets": packets["video"],
            "audioPackets": packets["audio"],
            "decodeErrors": errors.count,
            "decodeErrorSamples": errors.samples,
            "codecs": codecs,
        }
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the room's WHEP URL")
    parser.add_argument("--token", required=True, help="bearer token with access to the room")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--save", help="directory for first-frame.pgm")
    args = parser.parse_args()
    try:
        result = asyncio.run(probe(args.url, args.token, args.seconds, args.save))
    except Exception as error:  # report, don't trace: the test reads stdout
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
