"""Content handling that needs no app: Markdown rendering and loading content files."""
