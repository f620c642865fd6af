"""The agent console: pages, JSON API and the real-time socket.io namespace."""
