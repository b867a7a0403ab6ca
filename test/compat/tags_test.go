package compat

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// knownJSONDifferences are the JSON tag differences between our types and Gardener's, each with
// why it does not change what either side reads. The test fails on any other difference, and
// on an entry here that no longer differs.
var knownJSONDifferences = map[string]string{
	// omitempty has no effect on a struct-typed field in encoding/json: the bytes are the same.
	"EncryptionConfig.Provider":      "omitempty on a struct: same bytes",
	"EncryptionAtRest.Provider":      "omitempty on a struct: same bytes",
	"AdminKubeconfigRequest.Status":  "omitempty on a struct: same bytes",
	"ViewerKubeconfigRequest.Status": "omitempty on a struct: same bytes",
	// Only the zero value is written differently ("" or false present or absent); both sides
	// read either form as the zero value.
	"Kubernetes.Version":              `we write "version":"" (never valid here), Gardener omits it`,
	"ETCDEncryptionKeyRotation.Phase": `we omit an empty phase, Gardener writes "phase":""`,
	"EncryptionProviderStatus.Type":   `we omit an empty type, Gardener writes "type":""`,
	"ShootStatus.IsHibernated":        `we omit false, Gardener writes "hibernated":false`,
}

// TestFieldsMatchGardener walks every shared kind field by field: for each of our fields,
// Gardener's type has a field of the same Go name, the same JSON name and options, the same
// protobuf wire type, field number, cardinality and name, and the same shape (pointer, list, map).
func TestFieldsMatchGardener(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range sharedKinds {
		if k.gvk.Kind != "InternalSecretList" && k.gvk.Kind != "ShootList" { // their items are the kinds themselves
			compareStruct(t, reflect.TypeOf(k.ours).Elem(), reflect.TypeOf(k.gardener).Elem(), seen)
		}
	}
	for name := range knownJSONDifferences {
		if !seen[name] {
			t.Errorf("%s is listed as a known JSON difference but matches Gardener now: remove it from knownJSONDifferences", name)
		}
	}
}

func compareStruct(t *testing.T, ours, gardener reflect.Type, seen map[string]bool) {
	for i := range ours.NumField() {
		f := ours.Field(i)
		if f.Name == "TypeMeta" {
			continue
		}
		name := ours.Name() + "." + f.Name
		g, ok := ownField(gardener, f.Name)
		if !ok {
			t.Errorf("%s: Gardener's %s has no field %s", name, gardener.Name(), f.Name)
			continue
		}
		if oj, gj := f.Tag.Get("json"), g.Tag.Get("json"); oj != gj {
			if reason, known := knownJSONDifferences[name]; known {
				seen[name] = true
				t.Logf("%s: JSON tag %q, Gardener's %q (known: %s)", name, oj, gj, reason)
			} else {
				t.Errorf("%s: JSON tag %q, Gardener's %q", name, oj, gj)
			}
		}
		if op, gp := protoTag(f), protoTag(g); op != gp {
			t.Errorf("%s: protobuf %s, Gardener's %s", name, op, gp)
		}
		if os, gs := shape(f.Type), shape(g.Type); os != gs {
			t.Errorf("%s: Go type %s, Gardener's %s", name, os, gs)
			continue
		}
		if oe, ge := elem(f.Type), elem(g.Type); isAPIStruct(oe) {
			compareStruct(t, oe, ge, seen)
		}
	}
}

// protoTag is the part of a protobuf struct tag that reaches the wire: wire type, field number,
// cardinality and (for the text format and JSON names) the name. casttype/customtype are Go-only.
func protoTag(f reflect.StructField) string {
	parts := strings.Split(f.Tag.Get("protobuf"), ",")
	if len(parts) < 4 {
		return fmt.Sprintf("%q (no field number)", f.Tag.Get("protobuf"))
	}
	return fmt.Sprintf("field %s (%s, %s, %s)", parts[1], parts[0], parts[2], parts[3])
}

// shape is a type with every API type name replaced by its kind: *struct, []string, map[string][]uint8.
func shape(t reflect.Type) string {
	switch {
	case t.Kind() == reflect.Pointer:
		return "*" + shape(t.Elem())
	case t.Kind() == reflect.Slice:
		return "[]" + shape(t.Elem())
	case t.Kind() == reflect.Map:
		return "map[" + shape(t.Key()) + "]" + shape(t.Elem())
	case isAPIStruct(t):
		return "struct"
	case t.Kind() == reflect.Struct:
		return t.String()
	default:
		return t.Kind().String()
	}
}

// elem strips pointers, lists and maps down to the element type.
func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return t
}
