import { expect } from 'chai';
import { rooms, staffRoomSession } from '../../../src/shared/events.js';

describe('room names', () => {
  it('finds the session of a staff room, including ids with colons', () => {
    expect(staffRoomSession(rooms.staff('s-1'))).to.equal('s-1');
    expect(staffRoomSession(rooms.staff('a:b'))).to.equal('a:b');
  });

  it('answers undefined for every other kind of room', () => {
    for (const room of [rooms.students('s-1'), rooms.subjectStudents('s-1'), rooms.user('u-1'), 'socket-id']) {
      expect(staffRoomSession(room), room).to.equal(undefined);
    }
  });
});
