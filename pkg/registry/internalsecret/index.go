package internalsecret

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/tools/cache"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// TypeField is the selectable field the watch cache indexes, so that
// "--field-selector type=..." reads only the matching objects instead of scanning all.
const TypeField = "type"

// TypeTriggerFunc lets watches with a type selector get only events of that type.
func TypeTriggerFunc(obj runtime.Object) string {
	if s, ok := obj.(*core.InternalSecret); ok {
		return string(s.Type)
	}
	return ""
}

// TypeIndexFunc indexes the watch cache by type.
func TypeIndexFunc(obj any) ([]string, error) {
	s, ok := obj.(*core.InternalSecret)
	if !ok {
		return nil, fmt.Errorf("not an InternalSecret: %T", obj)
	}
	return []string{string(s.Type)}, nil
}

// Indexers are the watch cache's indexes of InternalSecrets.
func Indexers() *cache.Indexers {
	return &cache.Indexers{storage.FieldIndex(TypeField): TypeIndexFunc}
}
