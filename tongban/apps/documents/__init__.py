"""Official documents (公文): GB/T 9704-2012 layout, PDF rendering and sealing.

For now a library only (no models, no URLs): ``layout.OfficialDocument`` holds a
document's elements, ``rendering.render_document`` makes the PDF and ``sealing`` places
the seal and signs (PAdES with pyHanko, SM2 over the content) and verifies.
"""
