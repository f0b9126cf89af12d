// Reference agent for bench/compare: the DuneBugger remote agent's benchmarked
// job written on Microsoft's official @azure/web-pubsub-client (default client
// options: reliable JSON protocol, autoReconnect, autoRejoinGroups, keepalive
// 20 s ping / 120 s timeout) and the npm `nats` client. It is the yardstick
// the C++ agent is compared against, not a product.
//
// What it does, as the Python agent does (shared/docs/dunebugger-protocol.md):
//   - gets its client URL from the hub's POST /token (standing in for
//     getClientAccessUrl / the Auth0 wss_url claim), fresh for every new
//     connection; joins the device group; after every (re)connect broadcasts
//     heartbeat "Is anyone there?" (§1.4);
//   - controller.heartbeat -> "I am alive" at once, then every
//     heartBeatEverySecs for heartBeatLoopDurationSecs, then "Is anyone there?"
//     and the loop pauses (§1.4);
//   - group core.* / scheduler.* -> NATS <root>.<recipient>.<name> (§2);
//   - NATS <root>.remote.<x>: heartbeat marks a component alive; the listed
//     subjects are re-broadcast with the agent envelope (§1.1, §2);
//   - liveness probes to core and scheduler every 30 s (§2).
// What it leaves out (the benchmark does not exercise them): system_info,
// the internet monitor, Auth0 sign-in, the config file, status reporting.
//
//   node agent.js --token-url http://127.0.0.1:M/token --user U --group G \
//       --nats nats://127.0.0.1:N [--heartbeat-every 60] [--loop-duration 300] [--probe-every 30]
"use strict";

const { WebPubSubClient } = require("@azure/web-pubsub-client");
const { connect, JSONCodec } = require("nats");

const RELAYED = new Set(["gpio_state", "sequence_state", "sequence", "playing_time", "log",
  "current_schedule", "next_actions", "last_executed_action"]);
const I_AM_ALIVE = "I am alive";
const IS_ANYONE_THERE = "Is anyone there?";
const TOKEN_TIMEOUT_MS = 10000;

function parseArgs(argv) {
  const options = { heartbeatEvery: 60, loopDuration: 300, root: "dunebugger", clientId: "remote",
    probeEvery: 30 };
  const names = { "--token-url": "tokenUrl", "--user": "user", "--group": "group", "--nats": "nats",
    "--heartbeat-every": "heartbeatEvery", "--loop-duration": "loopDuration", "--root": "root",
    "--probe-every": "probeEvery" };
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`unknown or incomplete argument ${argv[i]}`);
    options[key] = typeof options[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const key of ["tokenUrl", "user", "group", "nats"]) {
    if (!options[key]) throw new Error(`missing --${key}`);
  }
  return options;
}

function log(text) {
  process.stderr.write(`${new Date().toISOString()} ${text}\n`);
}

function envelope(subject, body) {
  return { body, subject, source: "controller", destination: "broadcast" };
}

async function fetchClientUrl(options) {
  const response = await fetch(options.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userId: options.user, roles: ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"] }),
    signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`token request answered ${response.status}`);
  return (await response.json()).url;
}

class Agent {
  constructor(options) {
    this.options = options;
    this.codec = JSONCodec();
    this.joined = false;
    this.loopTimer = null;
    this.countdownTimer = null;
    this.componentSeen = new Map();
    this.client = new WebPubSubClient({ getClientAccessUrl: () => fetchClientUrl(options) });
    this.client.on("connected", (e) => {
      log(`connected ${e.connectionId}`);
      // After a new connection the SDK has rejoined the group already.
      if (this.joined) this.broadcast("heartbeat", IS_ANYONE_THERE);
    });
    this.client.on("disconnected", () => log("disconnected"));
    this.client.on("stopped", () => log("stopped"));
    this.client.on("rejoin-group-failed", (e) => log(`rejoin of ${e.group} failed: ${e.error.message}`));
    this.client.on("group-message", (e) => this.onGroupMessage(e.message.data));
  }

  async start() {
    const o = this.options;
    this.nats = await connect({ servers: o.nats, name: o.clientId, pingInterval: 5000, maxPingOut: 3,
      reconnectTimeWait: 2000, maxReconnectAttempts: -1, waitOnFirstConnect: true });
    this.consumeNats(this.nats.subscribe(`${o.root}.${o.clientId}.*`));
    setInterval(() => this.probeComponents(), o.probeEvery * 1000);
    await this.client.start();
    await this.client.joinGroup(o.group);
    this.joined = true;
    log(`joined group ${o.group}`);
    this.broadcast("heartbeat", IS_ANYONE_THERE);
  }

  broadcast(subject, body) {
    // sendToGroup(group, obj, "json", noEcho) as the Python agent and the front end do.
    this.client.sendToGroup(this.options.group, envelope(subject, body), "json", { noEcho: true })
      .catch((e) => log(`send ${subject} failed: ${e.message}`));
  }

  onGroupMessage(data) {
    if (data === null || typeof data !== "object" || data.source === "controller") return;  // loop guard
    if (typeof data.subject !== "string") return;
    const dot = data.subject.indexOf(".");
    if (dot < 0) return;
    const recipient = data.subject.slice(0, dot);
    const name = data.subject.slice(dot + 1);
    if (recipient === "controller") {
      if (name === "heartbeat") this.onHeartbeat();
    } else if (recipient === "core" || recipient === "scheduler") {
      this.nats.publish(`${this.options.root}.${recipient}.${name}`, this.codec.encode({ ...data, subject: name }));
    }
  }

  onHeartbeat() {
    this.broadcast("heartbeat", I_AM_ALIVE);
    clearTimeout(this.countdownTimer);
    this.countdownTimer = setTimeout(() => {
      clearInterval(this.loopTimer);
      this.loopTimer = null;
      this.broadcast("heartbeat", IS_ANYONE_THERE);
    }, this.options.loopDuration * 1000);
    if (this.loopTimer === null) {
      this.loopTimer = setInterval(() => this.broadcast("heartbeat", I_AM_ALIVE), this.options.heartbeatEvery * 1000);
    }
  }

  async consumeNats(subscription) {
    for await (const m of subscription) {
      let payload;
      try {
        payload = this.codec.decode(m.data);
      } catch {
        continue;
      }
      const x = m.subject.split(".")[2];
      if (x === "heartbeat") {
        this.componentSeen.set(payload.source, Date.now());
      } else if (RELAYED.has(x)) {
        this.broadcast(payload.subject, payload.body);
      } else {
        log(`unexpected NATS subject ${m.subject}`);
      }
    }
  }

  probeComponents() {
    const probe = this.codec.encode({ body: "are you there?", subject: "heartbeat", source: "controller" });
    for (const component of ["core", "scheduler"]) {
      this.nats.publish(`${this.options.root}.${component}.heartbeat`, probe);
    }
  }
}

async function main() {
  const agent = new Agent(parseArgs(process.argv));
  const stop = async () => {
    await agent.client.stop();
    await agent.nats?.drain().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  await agent.start();
}

main().catch((e) => {
  log(`fatal: ${e.stack || e}`);
  process.exit(1);
});
