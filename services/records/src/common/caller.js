"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.callerOf = callerOf;
function callerOf(auth) {
    return {
        tenantId: auth.tenantId,
        actor: auth.actor,
        testOnly: !auth.can('patient:read'),
        writesReal: auth.can('patient:write'),
        authorId: auth.actor.id,
    };
}
//# sourceMappingURL=caller.js.map