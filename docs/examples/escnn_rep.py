from escnn.group import dihedral_group

import symm

G = dihedral_group(6)
rep_escnn = G.regular_representation
rep = symm.Rep.from_escnn(rep_escnn)  # keeps escnn's irrep ids and change of basis
print(rep.size, rep.group.order)

back = rep.to_escnn()  # and back, for escnn models
print(back.size)
