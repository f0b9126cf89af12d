"""Delays every packet of an NFQUEUE queue by a fixed time: the fault suite's
stand-in for `tc qdisc ... netem delay`, which this kernel lacks
(CONFIG_NET_SCH_NETEM is not set, and there is no /lib/modules to load it from).

The rules that feed the queue are set by the caller with iptables' NFQUEUE
target (nftables' own `queue` statement is not built here either:
CONFIG_NFT_QUEUE is not set; iptables-nft reaches xt_NFQUEUE through
nft_compat). Run it in the namespace whose hooks queue the packets:

    ip netns exec NS /usr/bin/python3 nfqueue_delay.py --queue 7 --delay-ms 300

It speaks nfnetlink_queue over a raw netlink socket (no library in bookworm
does): bind the queue, ask for metadata only (the packet stays in the
kernel), and give each packet its ACCEPT verdict `delay` after it arrived.
Verdicts go out in arrival order, so order is kept, like netem without jitter.

Bounds: the kernel holds at most --max-queued packets waiting for a verdict
(1000, netem's default limit); past that it drops new packets, as netem
does. If this process dies the rules' `--queue-bypass` lets packets through
undelayed. It prints one JSON line when bound ({"event":"ready"}) and, on
SIGTERM, one with its counters, then exits 0."""
import argparse
import collections
import errno
import json
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NLMSG_HDR = struct.Struct("=IHHII")
NFGENMSG = struct.Struct("=BBH")


def _attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


class NfQueue:
    def __init__(self, queue, max_queued):
        self.queue = queue
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((0, 0))
        self._config(_attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET)))
        self._config(_attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))
                     + _attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", max_queued)))

    def _message(self, kind, flags, body):
        self.seq += 1
        header = NFGENMSG.pack(socket.AF_UNSPEC, 0, socket.htons(self.queue))
        msg_type = (NFNL_SUBSYS_QUEUE << 8) | kind
        return NLMSG_HDR.pack(NLMSG_HDR.size + len(header) + len(body), msg_type, flags, self.seq, 0) + header + body

    def _config(self, attrs):
        """Sends a config request and waits (2 s at most) for its ack."""
        self.sock.send(self._message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, attrs))
        self.sock.settimeout(2)
        data = self.sock.recv(65536)
        self.sock.settimeout(None)
        length, kind, _, _, _ = NLMSG_HDR.unpack_from(data)
        if kind == NLMSG_ERROR:
            code = struct.unpack_from("=i", data, NLMSG_HDR.size)[0]
            if code != 0:
                raise OSError(-code, "nfnetlink_queue config: " + os.strerror(-code))

    def verdict(self, packet_id):
        body = _attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
        self.sock.send(self._message(NFQNL_MSG_VERDICT, NLM_F_REQUEST, body))

    def packet_ids(self, data):
        """The packet ids in one datagram (it may hold several messages)."""
        ids = []
        offset = 0
        while offset + NLMSG_HDR.size <= len(data):
            length, kind, _, _, _ = NLMSG_HDR.unpack_from(data, offset)
            if length < NLMSG_HDR.size:
                break
            if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                a = offset + NLMSG_HDR.size + NFGENMSG.size
                end = offset + length
                while a + 4 <= end:
                    alen, akind = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    if (akind & 0x7FFF) == NFQA_PACKET_HDR:
                        ids.append(struct.unpack_from("!I", data, a + 4)[0])
                    a += (alen + 3) & ~3
            offset += (length + 3) & ~3
        return ids

    def close(self):
        try:
            self._config(_attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_UNBIND, socket.AF_INET)))
        except OSError:
            pass
        self.sock.close()


def run(queue, delay_s, max_queued):
    nfq = NfQueue(queue, max_queued)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    waiting = collections.deque()  # (due, packet id), in arrival order
    counters = {"packets": 0, "max_waiting": 0, "late_ms_max": 0.0, "overruns": 0}
    print(json.dumps({"event": "ready", "queue": queue, "delay_ms": delay_s * 1000}), flush=True)
    poller = select.poll()
    poller.register(nfq.sock, select.POLLIN)
    while not stop:
        now = time.monotonic()
        while waiting and waiting[0][0] <= now:
            due, packet_id = waiting.popleft()
            counters["late_ms_max"] = max(counters["late_ms_max"], (now - due) * 1000)
            nfq.verdict(packet_id)
        timeout_ms = 200 if not waiting else max(0, (waiting[0][0] - now) * 1000)
        try:
            ready = poller.poll(timeout_ms)
        except InterruptedError:
            continue
        if not ready:
            continue
        while True:
            try:
                data = nfq.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.ENOBUFS:  # the kernel dropped what did not fit
                    counters["overruns"] += 1
                    continue
                raise
            arrived = time.monotonic()
            for packet_id in nfq.packet_ids(data):
                waiting.append((arrived + delay_s, packet_id))
                counters["packets"] += 1
        counters["max_waiting"] = max(counters["max_waiting"], len(waiting))
    # Let what is held go at once rather than strand it.
    for _, packet_id in waiting:
        nfq.verdict(packet_id)
    nfq.close()
    print(json.dumps({"event": "stopped", **counters}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--queue", type=int, required=True)
    p.add_argument("--delay-ms", type=float, required=True)
    p.add_argument("--max-queued", type=int, default=1000)
    a = p.parse_args()
    run(a.queue, a.delay_ms / 1000.0, a.max_queued)
    return 0


if __name__ == "__main__":
    sys.exit(main())
