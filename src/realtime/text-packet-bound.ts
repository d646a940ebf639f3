import type { Server } from 'socket.io';

/**
 * Longest text packet a client may send, in characters. Every command's JSON is a few hundred
 * characters (the longest, a CONNECT with an RS256 token, under 9,000); a selfie and liveness
 * frames travel as binary attachments, which only SOCKET_MAX_BUFFER_BYTES bounds.
 */
export const MAX_TEXT_PACKET_CHARS = 64 * 1024;

interface DecoderLike {
  add(obj: unknown): void;
}

interface ParserModule {
  Decoder: new () => DecoderLike;
}

/**
 * Refuses a text packet longer than `maxChars` before socket.io-parser reads it: the client's
 * connection is closed (socket.io's answer to any packet it cannot decode), nothing parsed.
 * Parsing is what a long one costs: a megabyte of nested arrays took the node's event loop
 * 0.2 to 0.9 s to JSON.parse (on a loaded 2-core machine), for every node's client alike, and
 * one was accepted from anyone who opened a connection, before its CONNECT, and from a signed-in
 * client as often as it liked (rate limits count commands once parsed).
 *
 * socket.io builds each connection's decoder from its `_parser`; the `parser` option would take
 * the same module, but only through a package this one does not depend on directly.
 */
export function boundTextPackets(io: Server, maxChars: number, onRefused: (chars: number) => void): void {
  const holder = io as unknown as { _parser?: ParserModule };
  const base = holder._parser;
  if (typeof base?.Decoder !== 'function') {
    throw new Error('socket.io keeps its parser elsewhere than _parser: the bound of text packets cannot be put in place');
  }
  class BoundedDecoder extends base.Decoder {
    override add(obj: unknown): void {
      if (typeof obj === 'string' && obj.length > maxChars) {
        onRefused(obj.length);
        throw new Error(`a text packet of ${obj.length} characters, over ${maxChars}`);
      }
      super.add(obj);
    }
  }
  holder._parser = { ...base, Decoder: BoundedDecoder };
}
