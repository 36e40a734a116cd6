// Publishing from use-cases: the platform's ServiceEvents (libs/platform/src/service-events.ts):
// `make` builds an event from the contract's types, repositories carry change events in
// the changed document's outbox (`written()` nudges the relay), and `recordAccess`
// group-commits events about reads before the data is returned.
export { ServiceEvents as Events } from '@praxis/platform';
