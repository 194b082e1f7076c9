"""The data stewards' console (issue 19): server-rendered pages on the worker's web port.

No JavaScript is needed to read or act; nothing is fetched from the internet (charts are SVG drawn here).
Student data appears only in page bodies of authenticated requests, never in a URL: searches are POSTs,
dead letters are named by their place in the dead-letter topic. docs/console.md.
"""
