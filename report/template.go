package report

import (
	_ "embed"
	"html/template"
)

//go:embed page.html.tmpl
var pageSource string

// pageTemplate is parsed once; html/template escapes every value, so cell
// source lines and notebook names cannot inject markup.
var pageTemplate = template.Must(template.New("page").Parse(pageSource))
