; benchmark generated from python API
(set-info :status unknown)
(declare-fun s0.kind () Int)
(declare-fun s0.kind_index () Int)
(declare-fun s0.name () Int)
(declare-fun s0.status () Int)
(declare-fun s0.status_message () Int)
(declare-fun s0.service () Int)
(declare-fun s0.scope () Int)
(declare-fun s0.trace_state () Int)
(declare-fun s0.start () Int)
(declare-fun s0.end () Int)
(declare-fun s0.has_end () Bool)
(declare-fun s0.flags () Int)
(declare-fun s0.depth () Int)
(declare-fun s0.parent () Int)
(declare-fun s1.depth () Int)
(declare-fun s1.act () Bool)
(declare-fun s1.kind () Int)
(declare-fun s1.kind_index () Int)
(declare-fun s1.name () Int)
(declare-fun s1.status () Int)
(declare-fun s1.status_message () Int)
(declare-fun s1.service () Int)
(declare-fun s1.scope () Int)
(declare-fun s1.trace_state () Int)
(declare-fun s1.start () Int)
(declare-fun s1.end () Int)
(declare-fun s1.has_end () Bool)
(declare-fun s1.flags () Int)
(declare-fun s1.parent () Int)
(assert
 (let (($t0 (= s0.kind 5)))
 (let (($t1 (= s0.kind 9)))
 (let (($t2 (= s0.kind 4)))
 (let (($t3 (= s0.kind 10)))
 (let (($t4 (= s0.kind 7)))
 (let (($t5 (= s0.kind 12)))
 (or $t5 $t4 $t3 $t2 $t1 $t0))))))))
(assert
 (let (($t0 (= s0.kind 5)))
 (let (($t6 (= (= s0.kind_index 5) $t0)))
 (let (($t1 (= s0.kind 9)))
 (let (($t7 (= (= s0.kind_index 4) $t1)))
 (let (($t2 (= s0.kind 4)))
 (let (($t8 (= (= s0.kind_index 3) $t2)))
 (let (($t3 (= s0.kind 10)))
 (let (($t9 (= (= s0.kind_index 2) $t3)))
 (let (($t4 (= s0.kind 7)))
 (let (($t10 (= (= s0.kind_index 1) $t4)))
 (let (($t5 (= s0.kind 12)))
 (let (($t11 (= (= s0.kind_index 0) $t5)))
 (and $t11 $t10 $t9 $t8 $t7 $t6))))))))))))))
(assert
 (let (($t12 (>= s0.name 0)))
 (and $t12 (< s0.name 17))))
(assert
 (let (($t13 (= s0.status 6)))
 (let (($t14 (= s0.status 8)))
 (let (($t15 (= s0.status 11)))
 (or $t15 $t14 $t13)))))
(assert
 (let (($t16 (>= s0.status_message 0)))
 (and $t16 (< s0.status_message 17))))
(assert
 (let (($t17 (>= s0.service 0)))
 (and $t17 (< s0.service 17))))
(assert
 (let (($t18 (>= s0.scope 0)))
 (and $t18 (< s0.scope 17))))
(assert
 (let (($t19 (>= s0.trace_state 0)))
 (and $t19 (< s0.trace_state 17))))
(assert
 (>= s0.start 1700000000000000000))
(assert
 (<= s0.start 5000000000000000000))
(assert
 (<= s0.end 5000000000000000000))
(assert
 (=> s0.has_end (>= s0.end s0.start)))
(assert
 (let (($t20 (= s0.end s0.start)))
 (let (($t21 (not s0.has_end)))
 (=> $t21 $t20))))
(assert
 (>= s0.flags 0))
(assert
 (< s0.flags 4294967296))
(assert
 (>= s0.depth 0))
(assert
 (let (($t22 (= s0.parent 1)))
 (let (($t23 (= s0.parent (- 1))))
 (or $t23 (= s0.parent (- 2)) $t22))))
(assert
 (let (($t22 (= s0.parent 1)))
 (=> $t22 (and s1.act (= s0.depth (+ s1.depth 1))))))
(assert
 (let (($t24 (= s0.depth 0)))
 (=> (< s0.parent 0) $t24)))
(assert
 (let (($t25 (= s1.kind 5)))
 (let (($t26 (= s1.kind 9)))
 (let (($t27 (= s1.kind 4)))
 (let (($t28 (= s1.kind 10)))
 (let (($t29 (= s1.kind 7)))
 (let (($t30 (= s1.kind 12)))
 (or $t30 $t29 $t28 $t27 $t26 $t25))))))))
(assert
 (let (($t25 (= s1.kind 5)))
 (let (($t31 (= (= s1.kind_index 5) $t25)))
 (let (($t26 (= s1.kind 9)))
 (let (($t32 (= (= s1.kind_index 4) $t26)))
 (let (($t27 (= s1.kind 4)))
 (let (($t33 (= (= s1.kind_index 3) $t27)))
 (let (($t28 (= s1.kind 10)))
 (let (($t34 (= (= s1.kind_index 2) $t28)))
 (let (($t29 (= s1.kind 7)))
 (let (($t35 (= (= s1.kind_index 1) $t29)))
 (let (($t30 (= s1.kind 12)))
 (let (($t36 (= (= s1.kind_index 0) $t30)))
 (and $t36 $t35 $t34 $t33 $t32 $t31))))))))))))))
(assert
 (let (($t37 (>= s1.name 0)))
 (and $t37 (< s1.name 17))))
(assert
 (let (($t38 (= s1.status 6)))
 (let (($t39 (= s1.status 8)))
 (let (($t40 (= s1.status 11)))
 (or $t40 $t39 $t38)))))
(assert
 (let (($t41 (>= s1.status_message 0)))
 (and $t41 (< s1.status_message 17))))
(assert
 (let (($t42 (>= s1.service 0)))
 (and $t42 (< s1.service 17))))
(assert
 (let (($t43 (>= s1.scope 0)))
 (and $t43 (< s1.scope 17))))
(assert
 (let (($t44 (>= s1.trace_state 0)))
 (and $t44 (< s1.trace_state 17))))
(assert
 (>= s1.start 1700000000000000000))
(assert
 (<= s1.start 5000000000000000000))
(assert
 (<= s1.end 5000000000000000000))
(assert
 (=> s1.has_end (>= s1.end s1.start)))
(assert
 (let (($t45 (= s1.end s1.start)))
 (let (($t46 (not s1.has_end)))
 (=> $t46 $t45))))
(assert
 (>= s1.flags 0))
(assert
 (< s1.flags 4294967296))
(assert
 (>= s1.depth 0))
(assert
 (let (($t47 (= s1.parent 0)))
 (let (($t48 (= s1.parent (- 1))))
 (or $t48 (= s1.parent (- 2)) $t47))))
(assert
 (let (($t47 (= s1.parent 0)))
 (=> $t47 (and true (= s1.depth (+ s0.depth 1))))))
(assert
 (let (($t49 (= s1.depth 0)))
 (=> (< s1.parent 0) $t49)))
(assert
 (=> s1.act true))
(assert
 (let (($t50 (<= s0.start s1.start)))
 (=> s1.act $t50)))
(assert
 (and s0.has_end (or (not s1.act) s1.has_end)))
(assert
 (let (($t51 (and s1.has_end (<= s1.start s1.end))))
(let (($t52 (<= s1.start s1.start)))
(let (($t53 (and $t52 $t51)))
(let (($t54 (or (not (and $t52 $t51 $t52 $t51)) $t53)))
(let (($t55 (not s1.act)))
(let (($t56 (and s1.has_end (<= s0.start s1.end))))
(let (($t57 (<= s1.start s0.start)))
(let (($t58 (and $t57 $t56)))
(let (($t59 (or (not (and $t52 $t51 $t57 $t56)) $t58)))
(let (($t60 (and $t59 (or $t55 $t54))))
(let (($t61 (and s0.has_end (<= s1.start s0.end))))
(let (($t50 (<= s0.start s1.start)))
(let (($t62 (and $t57 $t56 $t50 $t61)))
(let (($t63 (or (not $t62) $t53)))
(let (($t64 (and s0.has_end (<= s0.start s0.end))))
(let (($t65 (<= s0.start s0.start)))
(let (($t66 (and $t57 $t56 $t65 $t64)))
(let (($t67 (or (not $t66) $t58)))
(let (($t68 (and $t67 (or $t55 $t63))))
(let (($t69 (and $t68 (or $t55 $t60))))
(let (($t70 (and $t65 $t64)))
(let (($t71 (or (not (and $t50 $t61 $t57 $t56)) $t70)))
(let (($t72 (and $t71 (or $t55 (or (not (and $t50 $t61 $t52 $t51)) (and $t50 $t61))))))
(let (($t73 (or (not (and $t65 $t64 $t65 $t64)) $t70)))
(let (($t74 (and $t73 (or $t55 (or (not (and $t65 $t64 $t50 $t61)) (and $t50 $t61))))))
(let (($t75 (and $t74 (or $t55 $t72))))
(let (($t76 (and $t75 (or $t55 $t69))))
(not $t76)))))))))))))))))))))))))))))
(check-sat)
