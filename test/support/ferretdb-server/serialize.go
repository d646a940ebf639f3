package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
)

// Wire protocol (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/): every
// message starts with a 16-byte header whose first int32 is the whole message's length and
// whose fourth is the op code. In OP_MSG, bit 1 of the flags after the header is moreToCome:
// on a request, no reply follows; on a reply, another reply follows.
const (
	headerLen   = 16
	opMsg       = 2013
	moreToCome  = 1 << 1
	maxMsgBytes = 48 << 20
)

// one is held from a command's arrival at FerretDB until its reply is read: FerretDB then
// runs one command at a time, and each conditional update is atomic as on MongoDB.
var one sync.Mutex

func readMessage(r io.Reader) ([]byte, error) {
	var header [headerLen]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.LittleEndian.Uint32(header[:4])))
	if n < headerLen || n > maxMsgBytes {
		return nil, fmt.Errorf("bad message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, header[:])
	if _, err := io.ReadFull(r, msg[headerLen:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func hasMoreToCome(msg []byte) bool {
	return len(msg) >= headerLen+4 &&
		binary.LittleEndian.Uint32(msg[12:16]) == opMsg &&
		binary.LittleEndian.Uint32(msg[16:20])&moreToCome != 0
}

// exchange forwards one request and, unless it wants none, its replies, under the lock.
func exchange(request []byte, backend net.Conn) ([][]byte, error) {
	one.Lock()
	defer one.Unlock()
	if _, err := backend.Write(request); err != nil {
		return nil, err
	}
	if hasMoreToCome(request) {
		return nil, nil
	}
	var replies [][]byte
	for {
		reply, err := readMessage(backend)
		if err != nil {
			return nil, err
		}
		replies = append(replies, reply)
		if !hasMoreToCome(reply) {
			return replies, nil
		}
	}
}

func relay(client net.Conn, backendAddr string) {
	defer client.Close()
	backend, err := net.Dial("tcp", backendAddr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-server: backend:", err)
		return
	}
	defer backend.Close()
	for {
		request, err := readMessage(client)
		if err != nil {
			return
		}
		replies, err := exchange(request, backend)
		if err != nil {
			return
		}
		for _, reply := range replies {
			if _, err := client.Write(reply); err != nil {
				return
			}
		}
	}
}

// serialize accepts clients on front and relays each to a connection of its own to FerretDB.
func serialize(ctx context.Context, front net.Listener, backendAddr string) {
	go func() {
		<-ctx.Done()
		front.Close()
	}()
	for {
		client, err := front.Accept()
		if err != nil {
			return
		}
		go relay(client, backendAddr)
	}
}
