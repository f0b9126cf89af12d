"""Numbered messages both ways between a device and its group, sent on two
threads until stop(), with every arrival recorded: the one traffic recorder
of the pubsub tests (tests/integration/pubsub/harness.py) and the fault
suite (tests/faults/harness.py).

A subclass says how a message is sent and seen:
  send_device(n)         the device sends device->group message n
  group_data(n)          the data of group->device message n, POSTed to the
                         group through the hub's control API from "frontend"
  d2g_number(m)          n of a hub message-log entry, None when not one of ours
  read_g2d(timeout)      [(n, wall time)] of the group->device messages the
                         device side got since the last call (waits <= timeout)
and, as `g2d_expected(recipients)`, which group->device messages must arrive:
by default those the hub sequenced for at least one member (0 means the
device had no session in the group, and Web PubSub does not buffer for
absent members; None means the POST failed).

Device->group arrival is the hub's message log (hub time, outcome,
connectionId); group->device arrival is what the device side saw. Times are
time.time(): the hub stamps its log with it."""
import threading
import time


class Traffic:
    def __init__(self, control, group, period, catch_up=True, log_pause=0.0):
        """`period` between two sends each way; `catch_up`: a late sender
        sends at once until it is on schedule again (else it waits `period`
        after each send); `log_pause` between two reads of the hub's log."""
        self.control, self.group, self.period = control, group, period
        self.catch_up, self.log_pause = catch_up, log_pause
        self.d2g_sent = {}      # n -> sent time
        self.g2d_sent = {}      # n -> (sent time, recipients or None on error)
        self.d2g_log = []       # (n, hub time, outcome, connectionId), in the hub's log order
        self.g2d_log = []       # (n, arrival time), in arrival order
        self.d2g_arrivals = {}  # n -> [(hub time, outcome, connectionId)]
        self.g2d_arrivals = {}  # n -> [arrival times]
        self.send_lock = threading.Lock()   # held by each group send; a test takes it to avoid overlap
        self._stop = threading.Event()
        self._readers_stop = threading.Event()
        self._log_since = control.messages(group)["last"]
        self._senders = [threading.Thread(target=f, name=f.__name__, daemon=True)
                         for f in (self._device_sender, self._group_sender)]
        self._readers = [threading.Thread(target=f, name=f.__name__, daemon=True)
                         for f in (self._g2d_reader, self._hub_reader)]

    # ---- what a subclass says

    def send_device(self, n):
        raise NotImplementedError

    def group_data(self, n):
        raise NotImplementedError

    def d2g_number(self, logged):
        raise NotImplementedError

    def read_g2d(self, timeout):
        raise NotImplementedError

    def g2d_expected(self, recipients):
        return bool(recipients)

    # ---- running

    def start(self):
        for t in self._readers + self._senders:
            t.start()
        return self

    def _paced(self, send):
        n = 0
        next_t = time.monotonic()
        while not self._stop.is_set():
            send(n)
            n += 1
            next_t = (next_t if self.catch_up else time.monotonic()) + self.period
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def _device_sender(self):
        def send(n):
            self.d2g_sent[n] = time.time()
            self.send_device(n)
        self._paced(send)

    def _group_sender(self):
        def send(n):
            with self.send_lock:
                t = time.time()
                try:
                    recipients = self.control.send_to_group(self.group, self.group_data(n),
                                                            from_user_id="frontend")["recipients"]
                except Exception:  # the control API is on the hub's loop: count, never stop the flow
                    recipients = None
                self.g2d_sent[n] = (t, recipients)
        self._paced(send)

    def _g2d_reader(self):
        while not self._readers_stop.is_set():
            for n, t in self.read_g2d(0.2):
                self.g2d_log.append((n, t))
                self.g2d_arrivals.setdefault(n, []).append(t)

    def _hub_reader(self):
        since = self._log_since
        while not self._readers_stop.is_set():
            try:
                batch = self.control.messages(self.group, since, wait=0.5)
            except Exception:
                time.sleep(0.1)
                continue
            since = batch["last"]
            for m in batch["messages"]:
                try:
                    n = self.d2g_number(m)
                except (KeyError, IndexError, ValueError, TypeError, AttributeError):
                    continue
                if n is None:
                    continue
                self.d2g_log.append((n, m["time"], m["outcome"], m["connectionId"]))
                self.d2g_arrivals.setdefault(n, []).append((m["time"], m["outcome"], m["connectionId"]))
            if self.log_pause:
                self._readers_stop.wait(self.log_pause)

    def stop(self):
        """Stops sending; the arrivals are still recorded (settle())."""
        self._stop.set()
        for t in self._senders:
            t.join(15)

    def settle(self, timeout, quiet=1.0):
        """After stop(): waits until every message has arrived (or timeout),
        then `quiet` s more so that late duplicates show, and stops reading."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.missing():
                break
            time.sleep(0.1)
        time.sleep(quiet)
        self._readers_stop.set()
        for t in self._readers:
            t.join(5)

    def close(self):
        self.stop()
        self._readers_stop.set()
        for t in self._readers:
            if t.is_alive():
                t.join(5)

    # ---- queries

    def delivered_d2g(self, n):
        return [a for a in self.d2g_arrivals.get(n, []) if a[1] == "delivered"]

    def first_arrival_after(self, t0):
        """(device->group, group->device): how long after t0 the first message
        SENT after t0 arrived, in each direction (None: none yet)."""
        d2g = [a[0] for n, s in list(self.d2g_sent.items()) if s >= t0 for a in self.delivered_d2g(n)]
        g2d = [a for n, (s, _) in list(self.g2d_sent.items()) if s >= t0 for a in self.g2d_arrivals.get(n, [])]
        return (min(d2g) - t0 if d2g else None, min(g2d) - t0 if g2d else None)

    def flowing_since(self, t0, timeout):
        """Waits until a message sent at or after t0 has arrived each way;
        returns the later of the two delays, or None at the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            d2g, g2d = self.first_arrival_after(t0)
            if d2g is not None and g2d is not None:
                return max(d2g, g2d)
            time.sleep(0.05)
        return None

    def missing(self):
        d2g = [n for n in list(self.d2g_sent) if not self.delivered_d2g(n)]
        g2d = [n for n, (_, r) in list(self.g2d_sent.items()) if self.g2d_expected(r) and not self.g2d_arrivals.get(n)]
        return d2g + g2d

    def counts(self):
        """Per direction: sent, lost, duplicated, out of order (lists of n, or counts)."""
        d2g_lost = sorted(n for n in self.d2g_sent if not self.delivered_d2g(n))
        # A message the service processed on one session and the device sent
        # again on the next, because the ack died with the session (hub
        # restart, session ended): the service cannot de-duplicate across
        # sessions (webpubsub-protocol.md §4; docs/pubsub.md "Session gone").
        # Counted apart; two deliveries on one session are a real duplicate.
        d2g_dup, d2g_dup_across = [], []
        for n in sorted(self.d2g_sent):
            sessions = [a[2] for a in self.delivered_d2g(n)]
            if len(sessions) > 1:
                (d2g_dup if len(set(sessions)) < len(sessions) else d2g_dup_across).append(n)
        # Order: the hub's log order of first deliveries.
        order = sorted((self.delivered_d2g(n)[0][0], n) for n in self.d2g_sent if self.delivered_d2g(n))
        d2g_disorder = sum(1 for a, b in zip(order, order[1:]) if b[1] < a[1])
        addressed = {n for n, (_, r) in self.g2d_sent.items() if r}
        not_addressed = sorted(n for n, (_, r) in self.g2d_sent.items() if r == 0)
        send_errors = sorted(n for n, (_, r) in self.g2d_sent.items() if r is None)
        g2d_lost = sorted(n for n in addressed if not self.g2d_arrivals.get(n))
        g2d_dup = sorted(n for n in self.g2d_arrivals if len(self.g2d_arrivals[n]) > 1)
        g2d_unexpected = sorted(n for n in self.g2d_arrivals if n not in addressed)
        arrivals = sorted((ts[0], n) for n, ts in self.g2d_arrivals.items())
        g2d_disorder = sum(1 for a, b in zip(arrivals, arrivals[1:]) if b[1] < a[1])
        return {
            "d2g_sent": len(self.d2g_sent), "d2g_lost": d2g_lost, "d2g_dup": d2g_dup,
            "d2g_dup_across_sessions": d2g_dup_across, "d2g_disorder": d2g_disorder,
            "g2d_sent": len(self.g2d_sent), "g2d_addressed": len(addressed), "g2d_not_addressed": not_addressed,
            "g2d_send_errors": send_errors, "g2d_lost": g2d_lost, "g2d_dup": g2d_dup,
            "g2d_unexpected": g2d_unexpected, "g2d_disorder": g2d_disorder,
        }

    def assert_exactly_once_in_order(self, test):
        """The strict check (no session ends): device->group, each message
        delivered once in the hub's log order and no other outcome than a
        duplicate the hub absorbed; group->device, each expected message
        once, in order, and nothing else."""
        delivered = [n for n, _, outcome, _ in self.d2g_log if outcome == "delivered"]
        test.assertEqual(delivered, list(range(len(self.d2g_sent))),
                         "device->group: each message delivered once, in order")
        test.assertEqual([o for _, _, o, _ in self.d2g_log if o not in ("delivered", "duplicate")], [])
        expected = [n for n, (_, r) in sorted(self.g2d_sent.items()) if self.g2d_expected(r)]
        test.assertEqual([n for n, _ in self.g2d_log], expected, "group->device: each message once, in order")
