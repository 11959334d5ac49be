import sys, os
sys.setswitchinterval(float(os.environ.get("SI", "0.005")))
sys.path.insert(0, "/work/main")
from wsgi import app
