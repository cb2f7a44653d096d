"""The web app: operator and manager pages, the JSON API, the screen pop socket."""
