package gateway

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cloudline/cloudline/kernel"
)

// payloadVersion is the launcher payload version the gateway's
// ResponseManager decodes (LAUNCHER_VERSION in its launchers).
const payloadVersion = 1

// aesKeyBytes is the size of the launchers' AES key: AES-128.
const aesKeyBytes = 16

// maxPayloadBytes bounds what Open accepts: a connection file is well
// under 1 KiB, and the sealed form is about twice that.
const maxPayloadBytes = 64 << 10

// ConnectionInfo is what the launcher returns: the kernel's connection
// file plus the process ids the gateway signals as a fallback, the
// communication port and the kernel id the gateway files the answer under.
type ConnectionInfo struct {
	kernel.ConnectionInfo
	PID      int    `json:"pid"`
	PGID     int    `json:"pgid"`
	CommPort int    `json:"comm_port"`
	KernelID string `json:"kernel_id"`
}

// envelope is the version 1 payload: the AES key sealed with the
// gateway's RSA key (PKCS #1 v1.5) and the connection information
// encrypted with that key (AES-128 in ECB mode, PKCS #7 padding), each in
// base64. The whole JSON object travels in base64 too.
type envelope struct {
	Version  int    `json:"version"`
	Key      string `json:"key"`
	ConnInfo string `json:"conn_info"`
}

// Seal encodes info as the gateway expects it on its response address.
// random is the source of the AES key and the RSA padding (nil means
// crypto/rand).
func Seal(info ConnectionInfo, pub *rsa.PublicKey, random io.Reader) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	plain, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode connection info: %w", err)
	}
	key := make([]byte, aesKeyBytes)
	if _, err := io.ReadFull(random, key); err != nil {
		return nil, fmt.Errorf("make aes key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("make aes cipher: %w", err)
	}
	sealedKey, err := rsa.EncryptPKCS1v15(random, pub, key)
	if err != nil {
		return nil, fmt.Errorf("seal aes key: %w", err)
	}
	env, err := json.Marshal(envelope{
		Version:  payloadVersion,
		Key:      base64.StdEncoding.EncodeToString(sealedKey),
		ConnInfo: base64.StdEncoding.EncodeToString(ecb(block, pad(plain, aes.BlockSize), block.Encrypt)),
	})
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return []byte(base64.StdEncoding.EncodeToString(env)), nil
}

// Open is the gateway's side of Seal: it decodes a payload with the
// gateway's private key. Tests and fake gateways use it.
func Open(payload []byte, priv *rsa.PrivateKey) (ConnectionInfo, error) {
	var info ConnectionInfo
	if len(payload) > maxPayloadBytes {
		return info, fmt.Errorf("payload of %d bytes: too long", len(payload))
	}
	raw, err := base64.StdEncoding.DecodeString(string(payload))
	if err != nil {
		return info, errors.New("payload: not base64")
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return info, fmt.Errorf("payload: %w", err)
	}
	if env.Version != payloadVersion {
		return info, fmt.Errorf("payload version %d, want %d", env.Version, payloadVersion)
	}
	sealedKey, err1 := base64.StdEncoding.DecodeString(env.Key)
	body, err2 := base64.StdEncoding.DecodeString(env.ConnInfo)
	if errors.Join(err1, err2) != nil {
		return info, errors.New("payload: key or conn_info not base64")
	}
	key, err := rsa.DecryptPKCS1v15(nil, priv, sealedKey)
	if err != nil || len(key) != aesKeyBytes {
		return info, errors.New("payload: aes key does not open with this private key")
	}
	block, err := aes.NewCipher(key)
	if err != nil || len(body) == 0 || len(body)%aes.BlockSize != 0 {
		return info, errors.New("payload: conn_info is not whole aes blocks")
	}
	plain, err := unpad(ecb(block, body, block.Decrypt), aes.BlockSize)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(plain, &info); err != nil {
		return info, fmt.Errorf("payload connection info: %w", err)
	}
	return info, nil
}

// ecb applies one block operation to each block of src: the gateway's
// format, ECB mode (which Go's cipher package leaves out on purpose). It
// protects a single short message under a fresh key.
func ecb(b cipher.Block, src []byte, op func(dst, src []byte)) []byte {
	out := make([]byte, len(src))
	for i := 0; i < len(src); i += b.BlockSize() {
		op(out[i:i+b.BlockSize()], src[i:i+b.BlockSize()])
	}
	return out
}

// pad appends PKCS #7 padding (always at least one byte).
func pad(b []byte, size int) []byte {
	n := size - len(b)%size
	return append(bytes.Clone(b), bytes.Repeat([]byte{byte(n)}, n)...)
}

func unpad(b []byte, size int) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("payload: empty")
	}
	n := int(b[len(b)-1])
	if n == 0 || n > size || n > len(b) || !bytes.Equal(b[len(b)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errors.New("payload: bad padding")
	}
	return b[:len(b)-n], nil
}
