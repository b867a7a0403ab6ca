package admission

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/sets"
	genericoptions "k8s.io/apiserver/pkg/server/options"
)

func newOptions() *genericoptions.AdmissionOptions {
	a := genericoptions.NewAdmissionOptions()
	Configure(a)
	return a
}

func TestConfigure(t *testing.T) {
	a := newOptions()
	assert.Empty(t, a.Validate(), "every registered plugin has a place in the order")
	assert.Equal(t, sets.New(AllOrderedPlugins...), sets.New(a.Plugins.Registered()...))
	assert.Equal(t, AllOrderedPlugins, a.RecommendedPluginOrder)
	assert.Empty(t, a.DefaultOffPlugins, "all plugins are on by default")
	for name := range ClusterPlugins {
		assert.Contains(t, AllOrderedPlugins, name, "a cluster plugin is registered")
	}
}
