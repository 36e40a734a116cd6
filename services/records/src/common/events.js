"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.Events = void 0;
const platform_1 = require("@praxis/platform");
const MAX_BATCH = 200;
class Events {
    conn;
    relay;
    queue = [];
    flushing = false;
    constructor(conn, relay) {
        this.conn = conn;
        this.relay = relay;
    }
    make(caller, type, data, patientId) {
        return (0, platform_1.makeEvent)({ type, tenantId: caller.tenantId, actor: caller.actor, data, ...(patientId ? { subject: { patientId } } : {}) });
    }
    /** Make access events durable; resolves once they are stored. Call before returning the data they describe. */
    recordAccess(events) {
        if (!events.length)
            return Promise.resolve();
        return new Promise((resolve, reject) => {
            this.queue.push({ events, resolve, reject });
            if (!this.flushing)
                void this.flush();
        });
    }
    async flush() {
        this.flushing = true;
        try {
            while (this.queue.length) {
                const batch = [];
                let size = 0;
                while (this.queue.length && (size === 0 || size + this.queue[0].events.length <= MAX_BATCH)) {
                    const w = this.queue.shift();
                    batch.push(w);
                    size += w.events.length;
                }
                try {
                    await (0, platform_1.recordEvents)(this.conn, batch.flatMap((w) => w.events));
                    for (const w of batch)
                        w.resolve();
                }
                catch (err) {
                    for (const w of batch)
                        w.reject(err);
                }
            }
        }
        finally {
            this.flushing = false;
        }
    }
    /** A write carrying events in its outbox has committed. */
    written() {
        this.relay.nudge();
    }
}
exports.Events = Events;
//# sourceMappingURL=events.js.map