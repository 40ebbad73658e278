import 'reflect-metadata';

export { BUS_TRANSPORT, BusContext, BusTransport } from './bus-transport.ts';
export type { BusTransportOptions, BusTransportStatus } from './bus-transport.ts';
export { BusExceptionFilter, createBusMicroservice } from './bus-microservice.ts';
export type { BusMicroserviceOptions } from './bus-microservice.ts';
