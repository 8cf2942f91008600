"""Other judges' APIs (Judge0, Piston), each mapped onto codeexec's one intake and job path."""
