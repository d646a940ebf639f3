/**
 * A Socket.IO client over engine.io long-polling that connects with a token, then vanishes: it
 * never polls again, as a phone that left the network between two polls (a corporate proxy
 * without WebSocket leaves a school's phones on long-polling). The server, between two of its
 * polls, cannot write it the close packet, and engine.io would wait 30 s for the next poll.
 */
export async function connectVanishingPolling(baseUrl: string, token: string): Promise<void> {
  const base = `${baseUrl}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(base)).text();
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  const url = `${base}&sid=${encodeURIComponent(sid)}`;
  const sent = await fetch(url, { method: 'POST', body: `40${JSON.stringify({ token })}`, headers: { 'content-type': 'text/plain' } });
  if (!sent.ok) throw new Error(`polling connect refused: ${sent.status}`);
  // The one poll that takes the connect answer; after it, none.
  const answer = await (await fetch(url)).text();
  if (!answer.includes('40{"sid"')) throw new Error(`no Socket.IO connect answer on polling: ${answer}`);
}
