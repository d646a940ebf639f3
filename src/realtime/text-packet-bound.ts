import * as socketIoParser from 'socket.io-parser';

/**
 * Longest text packet a client may send, in characters. Every command's JSON is a few hundred
 * characters (the longest, a CONNECT with an RS256 token, under 9,000); a selfie and liveness
 * frames travel as binary attachments, which only SOCKET_MAX_BUFFER_BYTES bounds.
 */
export const MAX_TEXT_PACKET_CHARS = 64 * 1024;

/**
 * socket.io's own parser (socket.io-parser, the `parser` server option) whose decoder refuses a
 * text packet longer than `maxChars` before reading it: the client's connection is closed
 * (socket.io's answer to any packet it cannot decode), nothing parsed. Parsing is what a long one
 * costs: a megabyte of nested arrays took the node's event loop 0.2 to 0.9 s to JSON.parse (on a
 * loaded 2-core machine), for every node's client alike, and one was accepted from anyone who
 * opened a connection, before its CONNECT, and from a signed-in client as often as it liked (rate
 * limits count commands once parsed).
 */
export function boundedParser(maxChars: number, onRefused: (chars: number) => void): typeof socketIoParser {
  class BoundedDecoder extends socketIoParser.Decoder {
    override add(obj: unknown): void {
      if (typeof obj === 'string' && obj.length > maxChars) {
        onRefused(obj.length);
        throw new Error(`a text packet of ${obj.length} characters, over ${maxChars}`);
      }
      super.add(obj);
    }
  }
  return { ...socketIoParser, Decoder: BoundedDecoder };
}
