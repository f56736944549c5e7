"""File formats in and out, one module per family (see ``docs/design.md``).

``read`` (structures in), ``write`` (structures and manifests out), ``volumetric`` (.cube,
VESTA .grd), ``images`` (PNG sections). Import the function you need from its module; this
package imports nothing heavy itself.
"""
