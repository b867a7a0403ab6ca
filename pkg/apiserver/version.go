package apiserver

import (
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	basecompatibility "k8s.io/component-base/compatibility"

	"github.com/garden-apiserver/garden-apiserver/pkg/buildinfo"
)

// buildVersion is the library's effective (Kubernetes) version, which decides APIs and
// features, answering /version with the build stamped by hack/version.sh.
type buildVersion struct {
	basecompatibility.EffectiveVersion
}

// Info keeps the emulation fields (the Kubernetes version the libraries serve) and reports
// the project's version, commit and build date.
func (v buildVersion) Info() *apimachineryversion.Info {
	info := v.EffectiveVersion.Info()
	b := buildinfo.Get()
	info.Major, info.Minor, info.GitVersion = b.Major, b.Minor, b.GitVersion
	info.GitCommit, info.GitTreeState, info.BuildDate = b.GitCommit, b.GitTreeState, b.BuildDate
	return info
}
