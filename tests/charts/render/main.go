// render: a minimal Helm template renderer for the chart test. Helm itself
// is not packaged in Debian; this uses Go's text/template with sprig (the
// same function library Helm uses) and implements the few Helm functions the
// chart needs: include, tpl, required, toYaml, fromYaml, lookup, and the
// .Release/.Chart/.Values/.Files objects (.Files.Get reads a file of the chart). Values: values.yaml deep-merged with -f files, then
// --set.
//
// lookup answers as Helm's does against a cluster: -lookup FILE gives the
// objects that exist (multi-document YAML, e.g. the output of a previous
// render, as an upgrade would find them); an object not there is an empty
// map, and a list query (name "") is a <Kind>List of the matches. With
// -lookup the release is an upgrade (.Release.IsUpgrade), else an install.
//
// Usage: render -chart DIR [-f values.yaml ...] [--set a.b=c ...] [-namespace NS] [-name RELEASE]
//
//	[-lookup existing.yaml ...] [-notes]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func readYAML(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		fail("%s: %v", path, err)
	}
	return out
}

// chartFiles is .Files: Get returns a chart file's text ("" when absent, as Helm).
type chartFiles struct{ dir string }

func (f chartFiles) Get(name string) string {
	data, err := os.ReadFile(filepath.Join(f.dir, filepath.Clean("/"+name)))
	if err != nil {
		return ""
	}
	return string(data)
}

// fromYAML is Helm's fromYaml: a map, or {"Error": ...} when the text does not parse.
func fromYAML(text string) map[string]interface{} {
	out := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(text), &out); err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	return out
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "render: "+format+"\n", args...)
	os.Exit(1)
}

// merge overlays src onto dst, recursing into maps (Helm's coalescing).
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// parseSetValue types a --set value the way Helm does for the common cases.
func parseSetValue(v string) interface{} {
	if v == "true" || v == "false" {
		return v == "true"
	}
	if v == "null" {
		return nil
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		var out interface{}
		if err := yaml.Unmarshal([]byte(v), &out); err == nil {
			return out
		}
	}
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		var out interface{}
		if err := yaml.Unmarshal([]byte(v), &out); err == nil {
			return out
		}
	}
	return v
}

func setPath(values map[string]interface{}, assignment string) {
	eq := strings.Index(assignment, "=")
	if eq < 0 {
		fail("--set %q: expected key=value", assignment)
	}
	keys := strings.Split(assignment[:eq], ".")
	node := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := node[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			node[k] = next
		}
		node = next
	}
	node[keys[len(keys)-1]] = parseSetValue(assignment[eq+1:])
}

// readObjects reads every document of a multi-document YAML file.
func readObjects(path string) []map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	var objects []map[string]interface{}
	decoder := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]interface{}
		if err := decoder.Decode(&doc); err != nil {
			if err == io.EOF {
				break
			}
			fail("%s: %v", path, err)
		}
		if doc != nil {
			objects = append(objects, doc)
		}
	}
	return objects
}

// lookupIn is Helm's lookup over a fixed set of objects.
func lookupIn(objects []map[string]interface{}) func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
	return func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		var items []interface{}
		for _, obj := range objects {
			meta, _ := obj["metadata"].(map[string]interface{})
			if obj["apiVersion"] != apiVersion || obj["kind"] != kind {
				continue
			}
			if namespace != "" && meta["namespace"] != namespace {
				continue
			}
			if name != "" && meta["name"] != name {
				continue
			}
			if name != "" {
				return obj, nil
			}
			items = append(items, obj)
		}
		if name != "" {
			return map[string]interface{}{}, nil
		}
		return map[string]interface{}{"apiVersion": apiVersion, "kind": kind + "List", "items": items}, nil
	}
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func main() {
	chartDir := flag.String("chart", "", "chart directory")
	namespace := flag.String("namespace", "prescale", "release namespace")
	name := flag.String("name", "prescale", "release name")
	notes := flag.Bool("notes", false, "render NOTES.txt instead of the manifests")
	var valueFiles, sets, lookups multiFlag
	flag.Var(&valueFiles, "f", "values file (repeatable)")
	flag.Var(&lookups, "lookup", "YAML file of objects that exist in the cluster, for lookup (repeatable)")
	flag.Var(&sets, "set", "key=value (repeatable)")
	flag.Parse()
	if *chartDir == "" {
		fail("-chart is required")
	}

	chartMeta := readYAML(filepath.Join(*chartDir, "Chart.yaml"))
	values := readYAML(filepath.Join(*chartDir, "values.yaml"))
	for _, f := range valueFiles {
		values = merge(values, readYAML(f))
	}
	for _, s := range sets {
		setPath(values, s)
	}

	var existing []map[string]interface{}
	for _, f := range lookups {
		existing = append(existing, readObjects(f)...)
	}
	upgrade := len(lookups) > 0

	root := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": *name, "Namespace": *namespace, "Service": "Helm", "IsInstall": !upgrade, "IsUpgrade": upgrade,
		},
		"Chart": map[string]interface{}{
			"Name": chartMeta["name"], "Version": chartMeta["version"], "AppVersion": chartMeta["appVersion"],
		},
		"Files": chartFiles{dir: *chartDir},
	}

	tmpl := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["lookup"] = lookupIn(existing)
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, fmt.Errorf("%s", msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := tmpl.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := tmpl.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	tmpl.Funcs(funcs)

	files, _ := filepath.Glob(filepath.Join(*chartDir, "templates", "*"))
	sort.Strings(files)
	var manifests []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fail("%v", err)
		}
		if _, err := tmpl.New(filepath.Base(f)).Parse(string(data)); err != nil {
			fail("%s: %v", f, err)
		}
		base := filepath.Base(f)
		if strings.HasSuffix(base, ".yaml") && !strings.HasPrefix(base, "_") {
			manifests = append(manifests, base)
		}
	}

	render := func(name string) string {
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, name, root); err != nil {
			fail("%v", err)
		}
		return buf.String()
	}
	if *notes {
		fmt.Print(render("NOTES.txt"))
		return
	}
	for _, m := range manifests {
		out := render(m)
		for _, doc := range strings.Split(out, "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			fmt.Printf("---\n# Source: prescale/templates/%s\n%s\n", m, strings.Trim(doc, "\n"))
		}
	}
}
