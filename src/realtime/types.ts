import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from '../shared/events.js';
import type { Ack } from '../shared/errors.js';

export type AppServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export type CommandName = keyof ClientToServerEvents;

/** The `data` type a command acknowledges with. */
export type AckData<E extends CommandName> = Parameters<ClientToServerEvents[E]>[1] extends (ack: Ack<infer T>) => void ? T : never;
