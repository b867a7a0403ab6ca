package server

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	serverstorage "k8s.io/apiserver/pkg/server/storage"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

// applyStorageMediaType makes the storage codec write --storage-media-type (protobuf unless
// set otherwise, as kube-apiserver) and read every format, so objects an earlier release stored
// as JSON stay readable until they are rewritten. The library's simple storage factory uses
// StorageConfig.Codec as it is and would ignore the flag.
func (o *ServerOptions) applyStorageMediaType() error {
	codec, err := o.storageCodec()
	if err != nil {
		return err
	}
	o.Recommended.Etcd.StorageConfig.Codec = codec
	return nil
}

func (o *ServerOptions) storageCodec() (runtime.Codec, error) {
	codec, _, err := serverstorage.NewStorageCodec(serverstorage.StorageCodecConfig{
		StorageMediaType:  o.Recommended.Etcd.DefaultStorageMediaType,
		StorageSerializer: apiserver.Codecs,
		StorageVersion:    v1beta1.SchemeGroupVersion,
		MemoryVersion:     core.SchemeGroupVersion,
	})
	if err != nil {
		return nil, fmt.Errorf("--storage-media-type: %w", err)
	}
	// Marks protobuf values as written with Gardener's field numbers and reads unmarked ones
	// (the earlier numbering) through the renumbering table.
	return storagecodec.New(codec), nil
}

// defaultStorageMediaType is what objects are written as unless --storage-media-type says otherwise.
const defaultStorageMediaType = runtime.ContentTypeProtobuf
