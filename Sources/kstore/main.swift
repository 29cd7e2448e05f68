print("kstore")
