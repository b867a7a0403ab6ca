package validation

import (
	"fmt"
	"net/url"
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// ProjectNamespacePrefix prefixes Gardener project namespaces (garden-<project>).
const ProjectNamespacePrefix = "garden-"

// MaxTechnicalIDLength bounds "shoot--<project>--<shoot>", the name Gardener gives the
// shoot's control-plane namespace: it must fit a DNS label.
const MaxTechnicalIDLength = validation.DNS1123LabelMaxLength

var (
	providerTypes = sets.New(core.EncryptionProviderTypeAESCBC, core.EncryptionProviderTypeAESGCM, core.EncryptionProviderTypeSecretbox)
	// Resources the shoot's kube-apiserver cannot or must not encrypt (Gardener's list).
	forbiddenResources = sets.New("apiserveripinfo", "serviceipallocations", "servicenodeportallocations")
	// What the shoot's kube-apiserver encrypts anyway.
	alwaysEncrypted = sets.New(schema.GroupResource{Resource: "secrets"})
)

// TechnicalID is the name of the shoot's control-plane namespace.
func TechnicalID(namespace, name string) string {
	return "shoot--" + strings.TrimPrefix(namespace, ProjectNamespacePrefix) + "--" + name
}

// ValidateShoot validates a Shoot.
func ValidateShoot(s *core.Shoot) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&s.ObjectMeta, true, validateShootName, field.NewPath("metadata"))
	if s.Namespace != "" && s.Name != "" {
		if id := TechnicalID(s.Namespace, s.Name); len(id) > MaxTechnicalIDLength {
			allErrs = append(allErrs, field.TooLong(field.NewPath("metadata", "name"), s.Name,
				MaxTechnicalIDLength-len(TechnicalID(s.Namespace, ""))))
		}
	}
	allErrs = append(allErrs, validateKubernetes(&s.Spec.Kubernetes, field.NewPath("spec", "kubernetes"))...)
	return append(allErrs, ValidateShootStatus(&s.Status, field.NewPath("status"))...)
}

// validateShootName: a DNS label without "--", which separates parts of the technical ID.
func validateShootName(name string, prefix bool) []string {
	msgs := apimachineryvalidation.NameIsDNSLabel(name, prefix)
	if strings.Contains(name, "--") {
		msgs = append(msgs, "must not contain two consecutive hyphens")
	}
	return msgs
}

func validateKubernetes(k *core.Kubernetes, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if k.Version == "" {
		allErrs = append(allErrs, field.Required(fld.Child("version"), "kubernetes version must not be empty"))
	} else if _, err := version.ParseSemantic(k.Version); err != nil {
		allErrs = append(allErrs, field.Invalid(fld.Child("version"), k.Version, "must be a semantic version (e.g. 1.31.2)"))
	}
	if k.KubeAPIServer != nil && k.KubeAPIServer.EncryptionConfig != nil {
		allErrs = append(allErrs, ValidateEncryptionConfig(k.KubeAPIServer.EncryptionConfig,
			fld.Child("kubeAPIServer", "encryptionConfig"))...)
	}
	return allErrs
}

// ValidateEncryptionConfig checks the resources a shoot wants encrypted and the provider, with
// Gardener's messages (each entry gets every error that applies).
func ValidateEncryptionConfig(c *core.EncryptionConfig, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[schema.GroupResource]()
	for i, r := range c.Resources {
		idx := fld.Child("resources").Index(i)
		gr := schema.ParseGroupResource(r)
		for _, msg := range resourceProblems(r, gr) {
			allErrs = append(allErrs, field.Invalid(idx, r, msg))
		}
		if seen.Has(gr) {
			allErrs = append(allErrs, field.Duplicate(idx, r))
		}
		if alwaysEncrypted.Has(gr) {
			allErrs = append(allErrs, field.Forbidden(idx, fmt.Sprintf("%q are always encrypted", r)))
		}
		seen.Insert(gr)
	}
	if t := c.Provider.Type; t != nil && !providerTypes.Has(*t) {
		allErrs = append(allErrs, field.NotSupported(fld.Child("provider", "type"), *t, sets.List(providerTypes)))
	}
	return allErrs
}

func resourceProblems(r string, gr schema.GroupResource) []string {
	var msgs []string
	add := func(bad bool, msg string) {
		if bad {
			msgs = append(msgs, msg)
		}
	}
	add(strings.ToLower(r) != r, "resource must be lower case")
	add(forbiddenResources.Has(r), "resources which do not have REST API/s cannot be encrypted")
	add(strings.HasSuffix(r, "."), "resource should not end with '.'")
	add(strings.Contains(r, "*"), "wildcards are not supported")
	add(gr.Group == "events.k8s.io", "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead")
	add(gr.Group == "extensions", "'extensions' group has been removed and cannot be used for encryption")
	if len(msgs) > 0 {
		return msgs
	}
	// Beyond Gardener: the served-resources check of admission needs a well-formed name.
	for _, m := range validation.IsDNS1123Label(gr.Resource) {
		msgs = append(msgs, "resource name "+m)
	}
	if gr.Group != "" {
		for _, m := range validation.IsDNS1123Subdomain(gr.Group) {
			msgs = append(msgs, "group "+m)
		}
	}
	return msgs
}

// ValidateShootUpdate validates an update of a Shoot (spec and metadata).
func ValidateShootUpdate(newS, oldS *core.Shoot) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newS.ObjectMeta, &oldS.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateEncryptionConfigUpdate(newS, oldS)...)
	allErrs = append(allErrs, validateHibernationUpdate(newS, oldS)...)
	return append(allErrs, ValidateShoot(newS)...)
}

// ValidateShootStatus checks the advertised addresses: unique names and absolute https URLs.
func ValidateShootStatus(st *core.ShootStatus, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i, a := range st.AdvertisedAddresses {
		idx := fld.Child("advertisedAddresses").Index(i)
		if a.Name == "" {
			allErrs = append(allErrs, field.Required(idx.Child("name"), ""))
		} else if names.Has(a.Name) {
			allErrs = append(allErrs, field.Duplicate(idx.Child("name"), a.Name))
		}
		names.Insert(a.Name)
		allErrs = append(allErrs, validateAdvertisedURL(a.URL, idx.Child("url"))...)
	}
	if st.ObservedGeneration < 0 {
		allErrs = append(allErrs, field.Invalid(fld.Child("observedGeneration"), st.ObservedGeneration, "must not be negative"))
	}
	return allErrs
}

// validateAdvertisedURL: issued kubeconfigs use scheme and host of the URL, so anything else a
// client would have to carry (credentials, query, fragment) is refused rather than dropped.
func validateAdvertisedURL(raw string, fld *field.Path) field.ErrorList {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		return field.ErrorList{field.Invalid(fld, raw, "must be an absolute https URL")}
	case u.User != nil:
		return field.ErrorList{field.Invalid(fld, raw, "must not contain user info")}
	case u.RawQuery != "" || u.ForceQuery:
		return field.ErrorList{field.Invalid(fld, raw, "must not contain a query")}
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return field.ErrorList{field.Invalid(fld, raw, "must not contain a fragment")}
	}
	return nil
}

// ValidateShootStatusUpdate validates a write to shoots/status.
func ValidateShootStatusUpdate(newS, oldS *core.Shoot) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newS.ObjectMeta, &oldS.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateShootStatus(&newS.Status, field.NewPath("status"))...)
}
