// pare-test/goweb: a Go web server (standard library only) the way a small team
// writes one: static files and an index page from /site (outside WORKDIR), HTML
// templates parsed from /site/templates on each request, and a time zone converter
// that loads zones by name with time.LoadLocation.
//
//	GET /                  /site/static/index.html
//	GET /static/...        files under /site/static (css, an image, robots.txt)
//	GET /hello?name=N      templates/hello.html
//	GET /about             templates/about.html
//	GET /zones             templates/zones.html: a fixed instant in four zones
//	GET /tz?zone=Z         JSON: a fixed instant in zone Z; 400 for an unknown zone
//	GET, POST /contact     templates/contact.html, templates/thanks.html; 400 on a
//	                       missing field, 405 for other methods
//	GET /health            ok
//	anything else          templates/404.html with status 404
package main

import (
	"encoding/json"
	"html/template"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const site = "/site"

// Answers must not depend on when they are made: every zone shows this instant.
var instant = time.Date(2026, time.July, 14, 9, 30, 0, 0, time.UTC)

func render(w http.ResponseWriter, status int, name string, data any) {
	files := []string{
		filepath.Join(site, "templates", "layout.html"),
		filepath.Join(site, "templates", name+".html"),
	}
	t, err := template.ParseFiles(files...)
	if err != nil {
		log.Printf("template %s: %v", name, err)
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", data); err != nil {
		log.Printf("render %s: %v", name, err)
	}
}

type zoneTime struct {
	Zone   string `json:"zone"`
	Time   string `json:"time"`
	Abbrev string `json:"abbrev"`
	Offset int    `json:"offset_seconds"`
}

func inZone(name string) (zoneTime, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return zoneTime{}, err
	}
	t := instant.In(loc)
	abbrev, offset := t.Zone()
	return zoneTime{Zone: name, Time: t.Format(time.RFC3339), Abbrev: abbrev, Offset: offset}, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8092"
	}
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir(filepath.Join(site, "static")))))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			render(w, http.StatusNotFound, "404", map[string]string{"Path": r.URL.Path})
			return
		}
		http.ServeFile(w, r, filepath.Join(site, "static", "index.html"))
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "stranger"
		}
		render(w, http.StatusOK, "hello", map[string]string{"Name": name})
	})
	mux.HandleFunc("/about", func(w http.ResponseWriter, r *http.Request) {
		render(w, http.StatusOK, "about", nil)
	})
	mux.HandleFunc("/zones", func(w http.ResponseWriter, r *http.Request) {
		var rows []zoneTime
		for _, z := range []string{"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo"} {
			zt, err := inZone(z)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			rows = append(rows, zt)
		}
		render(w, http.StatusOK, "zones", rows)
	})
	mux.HandleFunc("/tz", func(w http.ResponseWriter, r *http.Request) {
		zone := r.URL.Query().Get("zone")
		if zone == "" {
			zone = "UTC"
		}
		zt, err := inZone(zone)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown time zone " + zone})
			return
		}
		writeJSON(w, http.StatusOK, zt)
	})
	mux.HandleFunc("/contact", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			render(w, http.StatusOK, "contact", nil)
		case http.MethodPost:
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			name := strings.TrimSpace(r.PostForm.Get("name"))
			message := strings.TrimSpace(r.PostForm.Get("message"))
			if name == "" || message == "" {
				render(w, http.StatusBadRequest, "contact", map[string]string{"Error": "name and message are required"})
				return
			}
			log.Printf("message from %s (%d bytes)", name, len(message))
			render(w, http.StatusOK, "thanks", map[string]string{"Name": name, "Message": message})
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
	log.Printf("goweb listening on :%s, site %s", port, site)
	log.Fatal(http.ListenAndServe(":"+port, mux))
}
