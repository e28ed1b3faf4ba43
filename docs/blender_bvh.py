"""Blender (3.4, headless) imports a BVH file the kit wrote and renders one frame of it as a picture: the
BVH in use in an animation tool. Run by docs/wild_pictures.py as
    blender -b --python docs/blender_bvh.py -- FILE.bvh OUT.png FRAME
Blender's own BVH importer reads the file (centimetres, Y up -> metres, Z up); the bones of the posed
armature are drawn as a skinned stick figure and rendered with Cycles on the CPU.
"""
import builtins, sys
import bpy
_open = builtins.open
def _open_without_U(file, mode="r", *a, **k):   # Debian's Blender 3.4 BVH add-on opens with 'rU' (gone in Python 3.11)
    return _open(file, mode.replace("U", ""), *a, **k)
builtins.open = _open_without_U
args = sys.argv[sys.argv.index("--") + 1:]
bvh, png, frame = args[0], args[1], int(args[2])
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_anim.bvh(filepath=bvh, global_scale=0.01, axis_forward="-Z", axis_up="Y", update_scene_fps=True,
                        update_scene_duration=True)
builtins.open = _open
arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
scene = bpy.context.scene
from mathutils import Vector
scene.frame_set(frame)
verts, edges, index = [], [], {}
def vertex(p):   # joints shared by bones become one vertex: the skeleton is one connected tree
    key = tuple(round(c, 4) for c in p)
    if key not in index:
        index[key] = len(verts)
        verts.append(p)
    return index[key]
for pb in arm.pose.bones:
    head, tail = arm.matrix_world @ pb.head, arm.matrix_world @ pb.tail
    if (tail - head).length < 1e-4:
        continue
    edges.append((vertex(head), vertex(tail)))
mesh = bpy.data.meshes.new("bones")
mesh.from_pydata([tuple(v) for v in verts], edges, [])
body = bpy.data.objects.new("skeleton", mesh)
scene.collection.objects.link(body)
skin = body.modifiers.new("skin", "SKIN")
for v in mesh.skin_vertices[0].data:
    v.radius = (0.03, 0.03)
mesh.skin_vertices[0].data[0].use_root = True
body.modifiers.new("smooth", "SUBSURF").levels = 1
mat = bpy.data.materials.new("m"); mat.use_nodes = True
mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.8, 0.25, 0.1, 1)
body.data.materials.append(mat)
centre = sum(verts, Vector()) / len(verts)
bpy.ops.mesh.primitive_plane_add(size=4, location=(centre.x, centre.y, 0))
bpy.ops.object.camera_add(location=(centre.x + 2.6, centre.y - 3.2, 1.6))
cam = bpy.context.object
direction = centre - cam.location
cam.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
scene.camera = cam
bpy.ops.object.light_add(type="SUN", location=(0, 0, 5)); bpy.context.object.data.energy = 3
world = bpy.data.worlds.new("w"); scene.world = world; world.use_nodes = True
world.node_tree.nodes["Background"].inputs[1].default_value = 0.6
scene.render.engine = "CYCLES"; scene.cycles.samples = 16; scene.cycles.device = "CPU"; scene.cycles.use_denoising = False; scene.view_layers[0].cycles.denoising_store_passes = False
scene.render.resolution_x = scene.render.resolution_y = 360
scene.render.filepath = png
bpy.ops.render.render(write_still=True)
print("rendered", png, "bvh frame", frame, "bones", len(edges))
