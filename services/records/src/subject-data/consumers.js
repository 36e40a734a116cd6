"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.consumerNames = void 0;
exports.startSubjectDataConsumers = startSubjectDataConsumers;
const use_cases_1 = require("./use-cases");
const consumerNames = (prefix = '') => ({ erasures: `${prefix}erasure-requests`, purges: `${prefix}tenant-purges` });
exports.consumerNames = consumerNames;
async function startSubjectDataConsumers(bus, idempotency, deps, prefix = '') {
    const names = (0, exports.consumerNames)(prefix);
    await bus.consume(names.erasures, {
        bindings: ['consent.erasure-request.created'],
        idempotency,
        handler: async (event) => {
            const data = event.data;
            if (!(await deps.keys.holdsTenant(event.tenantId)))
                return;
            await (0, use_cases_1.erasePatient)(deps, event.tenantId, event.actor, data.patientId, data.erasureId, { requireKnown: false });
        },
    });
    await bus.consume(names.purges, {
        bindings: ['auth.tenant.purged'],
        idempotency,
        handler: async (event) => {
            const data = event.data;
            if (!(await deps.keys.holdsTenant(data.tenantId)))
                return;
            await (0, use_cases_1.purgeTenant)(deps, data.tenantId);
        },
    });
}
//# sourceMappingURL=consumers.js.map