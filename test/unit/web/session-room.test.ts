import { expect } from 'chai';
import { roomText } from '../../../src/web/lib/session-room.js';

describe('the room line of the teacher console', () => {
  it("names the subject's classroom when the session has no room of its own", () => {
    expect(roomText(null)).to.equal("Room: the subject's classroom (its location and networks).");
  });

  it('names the location and networks of a room, each falling back to the classroom on its own', () => {
    const location = { lat: 45.4642, lon: 9.19, radiusM: 60 };
    expect(roomText({ location, allowedIpRanges: ['10.1.0.0/24', '2001:db8::/48'] })).to.equal(
      'Room: within 60 m of 45.46420, 9.19000; networks 10.1.0.0/24, 2001:db8::/48.',
    );
    expect(roomText({ location, allowedIpRanges: [] })).to.equal("Room: within 60 m of 45.46420, 9.19000; the classroom's networks.");
    expect(roomText({ location: null, allowedIpRanges: ['10.1.0.0/24'] })).to.equal(
      "Room: at the subject's classroom location; networks 10.1.0.0/24.",
    );
  });
});
