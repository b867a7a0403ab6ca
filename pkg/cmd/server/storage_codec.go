package server

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/apiserver"
	"github.com/garden-apiserver/garden-apiserver/pkg/storagecodec"
)

// applyStorageMediaType makes the stores use the storage codec (pkg/storagecodec): it writes
// --storage-media-type (protobuf unless set otherwise, as kube-apiserver) and reads every
// format, so objects an earlier release stored as JSON or with the earlier protobuf field
// numbers stay readable until they are rewritten. The library's simple storage factory uses
// StorageConfig.Codec as it is and would ignore the flag.
func (o *ServerOptions) applyStorageMediaType() error {
	codec, err := o.storageCodec()
	if err != nil {
		return err
	}
	o.Recommended.Etcd.StorageConfig.Codec = codec
	return nil
}

func (o *ServerOptions) storageCodec() (*storagecodec.Codec, error) {
	codec, err := storagecodec.New(o.Recommended.Etcd.DefaultStorageMediaType, apiserver.Codecs,
		v1beta1.SchemeGroupVersion, core.SchemeGroupVersion)
	if err != nil {
		return nil, fmt.Errorf("--storage-media-type: %w", err)
	}
	return codec, nil
}

// defaultStorageMediaType is what objects are written as unless --storage-media-type says otherwise.
const defaultStorageMediaType = runtime.ContentTypeProtobuf
