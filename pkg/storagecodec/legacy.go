package storagecodec

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/runtime"
)

// message maps a message's earlier field numbers to Gardener's. A field not listed keeps its
// number and its bytes (unknown fields, map entries, messages whose numbers did not change).
type message map[protowire.Number]field

// field is where an earlier field number goes, and the table of its message type if fields
// inside it were renumbered too.
type field struct {
	to  protowire.Number
	msg message
}

// The earlier numbering, message by message (Gardener's generated.proto has the new one).
var (
	legacyETCDEncryptionKeyRotation = message{2: {to: 3}, 3: {to: 2}} // lastInitiationTime, lastCompletionTime
	legacyShootCredentialsRotation  = message{1: {to: 6, msg: legacyETCDEncryptionKeyRotation}}
	legacyShootCredentials          = message{1: {to: 1, msg: legacyShootCredentialsRotation}}
	legacyKubeAPIServerConfig       = message{1: {to: 16}} // encryptionConfig
	legacyKubernetes                = message{
		1: {to: 3, msg: legacyKubeAPIServerConfig}, // kubeAPIServer
		2: {to: 8},                                 // version
	}
	legacyShootSpec = message{
		1: {to: 6, msg: legacyKubernetes}, // kubernetes
		2: {to: 5},                        // hibernation
	}
	legacyShootStatus = message{
		1: {to: 13},                              // advertisedAddresses
		2: {to: 15, msg: legacyShootCredentials}, // credentials
		3: {to: 5},                               // lastOperation
		4: {to: 7},                               // observedGeneration
		5: {to: 4},                               // hibernated
	}
	legacyShoot          = message{2: {to: 2, msg: legacyShootSpec}, 3: {to: 3, msg: legacyShootStatus}}
	legacyInternalSecret = message{
		2: {to: 5}, // immutable
		3: {to: 2}, // data
		5: {to: 3}, // type
	}
)

// legacyKinds are the stored kinds whose numbering changed, by apiVersion and kind.
var legacyKinds = map[runtime.TypeMeta]message{
	{APIVersion: "core.gardener.cloud/v1beta1", Kind: "Shoot"}:          legacyShoot,
	{APIVersion: "core.gardener.cloud/v1beta1", Kind: "InternalSecret"}: legacyInternalSecret,
}

// fromLegacy turns a protobuf value without the marker into one with Gardener's numbers and
// the marker. Kinds whose numbering did not change are only marked.
func fromLegacy(v []byte) ([]byte, error) {
	var unk runtime.Unknown
	if err := unk.Unmarshal(v[len(protobufMagic):]); err != nil {
		return nil, err
	}
	if msg, ok := legacyKinds[unk.TypeMeta]; ok {
		raw, err := renumber(unk.Raw, msg)
		if err != nil {
			return nil, fmt.Errorf("renumbering a %s stored with the earlier protobuf field numbers: %w", unk.Kind, err)
		}
		unk.Raw = raw
	}
	unk.ContentType = FieldsMarker
	b, err := unk.Marshal()
	if err != nil {
		return nil, err
	}
	return append(append(make([]byte, 0, len(protobufMagic)+len(b)), protobufMagic...), b...), nil
}

// renumber rewrites the field numbers of the encoded message b by table m, recursing into the
// nested messages m names, and keeps every field's bytes and order.
func renumber(b []byte, m message) ([]byte, error) {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		vlen := protowire.ConsumeFieldValue(num, typ, b[n:])
		if vlen < 0 {
			return nil, protowire.ParseError(vlen)
		}
		f, ok := m[num]
		switch {
		case !ok:
			out = append(out, b[:n+vlen]...)
		case f.msg != nil && typ == protowire.BytesType:
			inner, _ := protowire.ConsumeBytes(b[n : n+vlen])
			nested, err := renumber(inner, f.msg)
			if err != nil {
				return nil, err
			}
			out = protowire.AppendTag(out, f.to, typ)
			out = protowire.AppendBytes(out, nested)
		default:
			out = protowire.AppendTag(out, f.to, typ)
			out = append(out, b[n:n+vlen]...)
		}
		b = b[n+vlen:]
	}
	return out, nil
}
